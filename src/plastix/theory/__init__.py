"""Analytic predictions that simulations in plastix are checked against (one module per paper)."""
