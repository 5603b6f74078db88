"""Notifications: ticket events told to people through the channels they use (e-mail, DingTalk, WeCom and Feishu
group robots, a signed webhook, an SMS gateway), routed by settings, composed in the recipient's language,
delivered asynchronously with retries, and recorded per ticket."""
