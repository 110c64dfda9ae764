"""Learning-to-rank stage: LightGBM LambdaRank over features of each retrieved candidate."""
