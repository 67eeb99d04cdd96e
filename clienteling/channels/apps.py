from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "clienteling.channels"
    label = "channels"
    verbose_name = "Message transports"
