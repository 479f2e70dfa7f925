def test_index_renders(client, django_user_model):
    user = django_user_model.objects.create_user("ana")
    client.force_login(user)
    assert client.get("/").status_code == 200
