"""A Bolt for Python app written for Slack, run against Parley (README.md beside this file).

Nothing here knows about Parley but the Web API's base URL, SLACK_API_URL (Slack's is
https://slack.com/api/); the bot token and the signing secret are the app's, shown once
when it is created. Bolt verifies every request's X-Slack-Signature itself, answers the
url_verification challenge, and ignores what its own bot posts.

- a message with "hello" in it gets an answer in its thread (`say`);
- a mention of the bot (`app_mention`) gets one too;
- a reaction to a message gets the same reaction from the bot (`reaction_added`);
- `/standup TEXT` is acknowledged to the invoker (`ack`) and posted to the channel as the
  bot (`respond`, in_channel); `/standup` alone shows the invoker alone how to use it.

Run: SLACK_API_URL=... SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... [PORT=3100]
python examples/bolt_app/app.py; Bolt serves events and commands at /slack/events.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from slack_bolt import Ack, App, Respond, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logging.basicConfig(level=logging.INFO)

# The token goes to the client: given a client, Bolt takes the App's token from it (and
# logs that SLACK_BOT_TOKEN, its own variable, "will be unused": the client has it).
app = App(
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
)

USAGE = "Usage: `/standup what you did, what you will do, what is in your way`"


def _thread_of(message: dict[str, Any]) -> str:
    """The thread to answer in: the message's own, or the one it starts."""
    return str(message.get("thread_ts") or message["ts"])


@app.message("hello")
def greet(message: dict[str, Any], say: Say) -> None:
    say(
        text=f"Hi <@{message['user']}>! Type `/standup` to share yours.",
        thread_ts=_thread_of(message),
    )


# Registered after the "hello" listener, which Bolt tries first: every other message of the
# channels the bot is in is acknowledged here. Unacknowledged, Bolt would answer 404
# ("unhandled request") and the platform would retry the delivery.
@app.event("message")
def other_messages(logger: logging.Logger, event: dict[str, Any]) -> None:
    logger.debug("heard %s in %s", event.get("subtype", "a message"), event.get("channel"))


@app.event("app_mention")
def mentioned(event: dict[str, Any], say: Say) -> None:
    say(
        text=f"You called, <@{event['user']}>? I answer `hello` and `/standup`.",
        thread_ts=_thread_of(event),
    )


@app.event("reaction_added")
def react_along(event: dict[str, Any], client: WebClient) -> None:
    item = event["item"]
    if item.get("type") != "message":
        return
    try:
        client.reactions_add(channel=item["channel"], timestamp=item["ts"], name=event["reaction"])
    except SlackApiError as refused:
        if refused.response["error"] != "already_reacted":
            raise


@app.command("/standup")
def standup(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
    report = command.get("text", "").strip()
    if not report:
        ack()
        respond(text=USAGE)  # ephemeral: the invoker alone sees it
        return
    ack(f"Thanks <@{command['user_id']}>, posting your standup.")
    respond(
        response_type="in_channel",
        text=f"Standup from <@{command['user_id']}>: {report}",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*Standup from <@{command['user_id']}>*"},
            },
            {"type": "section", "text": {"type": "plain_text", "text": report}},
        ],
    )


if __name__ == "__main__":
    app.start(port=int(os.environ.get("PORT", "3100")))
