"""Utilities: ``mini_torch.utils.data`` holds datasets and the data loader."""
