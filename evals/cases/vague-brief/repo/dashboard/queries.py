from tickets.models import Ticket


def open_tickets():
    return [ticket for ticket in Ticket.objects.all() if ticket.status == "open"]


def team_load(team):
    return sum(1 for ticket in Ticket.objects.all() if ticket.team_id == team.id)
