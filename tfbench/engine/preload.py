"""What the server that forks local worker processes imports once, before it forks any
(engine/executors.py `worker_context`): TensorFlow and Keras, quietly, and the harness every run
uses. Each worker then starts with them imported instead of spending seconds of CPU importing them
itself, and the pages of the imported modules are shared between the workers."""

from tfbench.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import tfbench.engine.runner  # noqa: E402, F401  (the jobs' own module)
import tfbench.harness.train  # noqa: E402, F401  (what every job runs)
