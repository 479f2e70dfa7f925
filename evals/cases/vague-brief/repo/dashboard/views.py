from django.shortcuts import render

from dashboard.queries import open_tickets, team_load


def index(request):
    teams = [(team, team_load(team)) for team in request.user.teams.all()]
    return render(request, "dashboard/index.html", {"teams": teams, "tickets": open_tickets()})
