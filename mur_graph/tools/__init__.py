"""Tools a reasoning step may call: a safe calculator, and the stepping loop that runs calls."""

from mur_graph.tools.calculator import CalculatorResult, calculate, calculator

__all__ = ["CalculatorResult", "calculate", "calculator"]
