"""elo: Bradley-Terry ratings, tournament scheduling and match play for hexzero agents."""
