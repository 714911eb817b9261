"""Loggers and callbacks for training frameworks, one module per framework.

Each module imports its framework only when used; `import mmtop.store` imports none of them
(docs/INTEGRATIONS.md):

- `mmtop.store.integrations.lightning.MmtopLogger` (`import lightning`) and
  `mmtop.store.integrations.pytorch_lightning.MmtopLogger` (`import pytorch_lightning`)
- `mmtop.store.integrations.huggingface.MmtopCallback` (transformers' Trainer)
- `mmtop.store.integrations.keras.MmtopCallback` (Keras 3)
- `mmtop.store.integrations.sklearn.autolog` / `log_estimator` (scikit-learn)
"""
