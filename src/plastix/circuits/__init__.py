"""Circuits built around trained networks: the loop that chains syllables into sequences.

``cursor`` — a 2-D cursor moved by an RNN's velocity readout, its reach syllables, and the
Trainer-compatible tasks for learning them (stage 1) or a whole sequence directly;
``loop`` — the gated striatal winner-take-all loop with reward-modulated Hebbian learning that
learns the transitions between syllables (stage 2) (Murray 2019, Fig. 4).
"""

from .cursor import CursorSyllables, SequenceTask, SyllableTask
from .loop import LoopCircuit, LoopRun, sequence_loss

__all__ = ["CursorSyllables", "SyllableTask", "SequenceTask", "LoopCircuit", "LoopRun", "sequence_loss"]
