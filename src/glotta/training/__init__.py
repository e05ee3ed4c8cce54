"""Training data and fine-tuning: triplet building, negative mining, contrastive training."""
