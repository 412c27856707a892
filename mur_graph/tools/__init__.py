"""Tools a reasoning step may call: a safe calculator, and the stepping loop that runs its calls.

`calculate(expression)` is the function; the LangChain tool is `mur_graph.tools.calculator.calculator`.
"""

from mur_graph.tools.calculator import CalculatorResult, calculate, start_worker

__all__ = ["CalculatorResult", "calculate", "start_worker"]
