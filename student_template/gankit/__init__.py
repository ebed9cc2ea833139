"""What every task shares: the offline data layer, the frozen classifiers and device selection."""
