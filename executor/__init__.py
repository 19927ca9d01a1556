"""The concrete reference executor of UMCG v0.2: the patch's functions as plain code on real
OS threads over a concrete memory image (docs/executor.md).

Independent of the model: nothing here imports model/v0_2; the only thing shared with the
model is the trace vocabulary (action names, state variable names, pc label names), which
executor/conform.py uses to check every recorded step against the model."""
