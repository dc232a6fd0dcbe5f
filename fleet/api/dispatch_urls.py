"""Fleet API routes (dispatch)."""

urlpatterns: list = []
