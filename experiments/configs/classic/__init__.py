"""Classic-control configs (CartPole, Acrobot, Pendulum)."""
