from app.repositories.battle import BattleRepository
from app.repositories.category import CategoryRepository
from app.repositories.performer import PerformerRepository
from app.repositories.tournament import TournamentRepository

__all__ = ["BattleRepository", "CategoryRepository", "PerformerRepository", "TournamentRepository"]
