from django.db import models


class Ticket(models.Model):
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20)
    team_id = models.IntegerField()
    assignee = models.ForeignKey("auth.User", on_delete=models.PROTECT)
