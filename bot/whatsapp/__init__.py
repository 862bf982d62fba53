"""The WhatsApp adapter (Cloud API through pywa): webhook, conversation, delivery channel.

The same services as Telegram sit behind it; only reading updates and drawing replies differ.
"""
