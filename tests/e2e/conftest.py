import pytest

from mur_graph import ChatTransformers, load_embedded_model


@pytest.fixture(scope="session")
def embedded() -> ChatTransformers:
    """The real embedded SmolLM2-135M-Instruct (converted once into the user cache)."""
    return load_embedded_model()
