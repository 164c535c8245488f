"""The sandbox workspace's people, channels and conversation material.

Filler conversations are templates (``{person}``, ``{service}``, ...) that ``seed.py`` fills in
with a fixed random seed; they never mention ``@ada``. The scripted messages are the facts tests
rely on: every ``@ada`` mention, and the words ``flamegraph``, ``postmortem``, ``Lisbon``,
``Nightingale``, ``roadmap``, ``observability``, ``Analytical Engine`` and ``payroll``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Monday 2025-06-02 00:00 UTC; the conversation runs Monday to Friday, 09:00-18:00.
BASE_TIME = 1748822400.0
DAY = 86400.0
# Ada has read everything before Thursday 12:00 UTC; what follows is her catch-up.
ADA_READ_UNTIL = BASE_TIME + 3 * DAY + 12 * 3600

# id, username, name, is_bot
USERS: list[tuple[str, str, str, bool]] = [
    ("U01", "ada", "Ada Lovelace", False),
    ("U02", "grace", "Grace Hopper", False),
    ("U03", "alan", "Alan Turing", False),
    ("U04", "katherine", "Katherine Johnson", False),
    ("U05", "margaret", "Margaret Hamilton", False),
    ("U06", "dennis", "Dennis Ritchie", False),
    ("U07", "barbara", "Barbara Liskov", False),
    ("U08", "deploybot", "Deploy Bot", True),
]
EMAIL_DOMAIN = "sandbox.example"

_HUMANS = ["ada", "grace", "alan", "katherine", "margaret", "dennis", "barbara"]

# Sign-in material for tests and manual tries, the same in every sandbox (docs/cli.md lists it):
# each person's password, and for everyone, the bot included, a personal access token with every
# scope. Only their hashes are stored.
SANDBOX_PASSWORDS: dict[str, str] = {name: f"{name}-sandbox-password" for name in _HUMANS}
SANDBOX_PERSONAL_TOKENS: dict[str, str] = {
    username: f"sbx_pat_seeded_{username}" for _, username, _, _ in USERS
}


@dataclass(frozen=True)
class ChannelSpec:
    """A seeded channel: who is in it and how many filler conversations it gets."""

    id: str
    name: str
    kind: str
    topic: str
    members: list[str]
    roots: int


CHANNELS: list[ChannelSpec] = [
    ChannelSpec("C01", "general", "public", "Company-wide news and chatter", _HUMANS, 55),
    ChannelSpec(
        "C02",
        "engineering",
        "public",
        "Deploys, reviews, incidents and design docs",
        ["ada", "grace", "alan", "margaret", "dennis", "barbara", "deploybot"],
        75,
    ),
    ChannelSpec("C03", "random", "public", "Cats, books, snacks", _HUMANS, 40),
    ChannelSpec(
        "C04", "announcements", "public", "Official news (read-mostly)", [*_HUMANS, "deploybot"], 10
    ),
    ChannelSpec(
        "C05",
        "design",
        "public",
        "Mockups and UX",
        ["grace", "katherine", "margaret", "barbara"],
        18,
    ),
    ChannelSpec(
        "C06", "leads", "private", "Team leads only", ["ada", "grace", "katherine", "margaret"], 18
    ),
    ChannelSpec("C07", "people-ops", "private", "HR and payroll", ["grace", "katherine"], 8),
    ChannelSpec("D01", "dm-ada-grace", "direct", "", ["ada", "grace"], 10),
]

FILL: dict[str, list[str]] = {
    "service": ["checkout", "billing", "search-indexer", "auth-gateway", "notifications"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "n": [str(n) for n in (3, 5, 7, 12, 15, 20, 25, 40)],
    "pct": ["5", "10", "25", "50"],
    "version": [f"2.{minor}.{patch}" for minor in (11, 12, 13) for patch in (0, 1, 2)],
}

# channel name -> [(root, [replies])]; replies are used in order, as a prefix of random length.
CONVERSATIONS: dict[str, list[tuple[str, list[str]]]] = {
    "general": [
        ("Good morning everyone!", ["Morning!", "Good morning, happy {weekday}."]),
        (
            "Lunch orders close at 11:30 today, the menu is pinned in the kitchen.",
            ["Thanks!", "Can we get the vegetarian lasagne again?", "Added it to the order."],
        ),
        ("The office wifi will be down for maintenance on {weekday} from 7:00 to 8:00.", []),
        (
            "Please welcome {person} to the team! They will be working on {service}.",
            ["Welcome aboard!", "Welcome! Great to have you here.", "Thanks everyone!"],
        ),
        (
            "Who is joining book club on {weekday}? We are discussing chapter {n}.",
            ["Count me in.", "I am behind on the reading but I will listen in."],
        ),
        ("Reminder to submit your expense reports by the end of the month.", []),
        ("The coffee machine in the kitchen is fixed!", ["Finally.", "Best news of the week."]),
        (
            "Does anyone have a spare USB-C adapter? Mine disappeared.",
            ["Check the drawer next to the printer.", "Found one, thank you {person}!"],
        ),
        (
            "Happy Friday! Any plans for the weekend?",
            ["Hiking if the weather holds.", "Sleeping, mostly.", "Visiting family."],
        ),
        (
            "Meeting room Babbage is double booked at 14:00, could someone move?",
            ["Moved ours to the Hopper room."],
        ),
        ("The team photo from last week is on the shared drive.", ["Great photo!"]),
        ("Fire drill at 10:00 on {weekday}, please leave your laptops behind.", []),
        (
            "Lost and found: a blue water bottle was left in the big meeting room.",
            ["That is mine, thanks!"],
        ),
    ],
    "engineering": [
        (
            "Deploying {service} v{version} to staging now.",
            [
                "Smoke tests are green on staging.",
                "Nice, promoting to production after lunch.",
                "Rolled out to 100%, no new errors.",
            ],
        ),
        (
            "Is anyone else seeing flaky failures in the {service} integration tests?",
            [
                "Yes, the timeout in test_retry_backoff again.",
                "I think it is the shared Redis fixture; {person} had a fix for it.",
                "Quarantined the test for now and opened a ticket.",
            ],
        ),
        (
            "PR for the {service} rate limiter is ready for review: small diff, mostly tests.",
            ["Looking now.", "Left two comments, otherwise good to go.", "Approved."],
        ),
        (
            "Heads up: CI is slow today, jobs are queueing for about {n} minutes.",
            ["Thanks for the heads up.", "Bumped the runner pool from 8 to 12 machines."],
        ),
        (
            "The {service} p95 latency went up after yesterday's release. Investigating.",
            [
                "Looks like a missing index on the events table.",
                "Index added, p95 is back to normal.",
                "Great catch.",
            ],
        ),
        ("Reminder: the code freeze for the release starts {weekday} at 17:00 UTC.", []),
        (
            "Who owns the {service} dashboards? A few panels are broken.",
            ["That would be {person}.", "Fixed the panels, the data source had been renamed."],
        ),
        (
            "Upgraded the Python base image to 3.12 for {service}; shout if anything breaks.",
            [
                "Builds are about {n}% faster, nice.",
                "One warning about a deprecated datetime call, fixing it.",
            ],
        ),
        (
            "Does anyone have a good pattern for idempotent webhooks in {service}?",
            [
                "Store the delivery id with a unique constraint and ignore duplicates.",
                "And answer 200 for the duplicate so the sender stops retrying.",
            ],
        ),
        (
            "The feature flag for the new {service} pipeline is now at {pct}% of traffic.",
            ["Error rate unchanged.", "Let us go to 100% tomorrow morning."],
        ),
        (
            "On-call handover: quiet week, two pages for disk space on the {service} workers.",
            ["Thanks! I will look at the log rotation."],
        ),
        (
            "Design doc for moving {service} to a queue-based architecture is ready for comments.",
            [
                "Read it, mostly agree. I worry about ordering guarantees.",
                "Good point, added a section on per-key ordering.",
                "Looks solid now.",
            ],
        ),
        (
            "TIL SQLite ships a full-text search extension, FTS5. Might be enough for our tools.",
            ["Ranking with bm25 works surprisingly well.", "We use it in the sandbox already."],
        ),
        (
            "Sprint retro notes are in the wiki. Top item: fewer meetings on Wednesdays.",
            ["Strongly agree.", "Let us try a no-meeting Wednesday next sprint."],
        ),
        ("The {service} error budget for the month is at {n}%.", []),
        (
            "Can someone pair with me on the {service} database migration this afternoon?",
            ["Sure, ping me after 14:00.", "Done, the migration ran in {n} seconds."],
        ),
    ],
    "random": [
        ("Look at this cat.", ["Majestic.", "Ten out of ten cat."]),
        (
            "Best mechanical keyboard switches, go.",
            ["Browns, obviously.", "Silent reds, for my neighbours' sake.", "Whatever is on sale."],
        ),
        (
            "Tabs or spaces? Asking for a friend.",
            ["Spaces, four of them.", "Whatever the formatter says."],
        ),
        (
            "Anyone read a good science fiction book lately?",
            ["The Three-Body Problem, finally.", "Project Hail Mary was fun.", "Adding both."],
        ),
        (
            "The bakery across the street has cinnamon buns today.",
            ["On my way.", "Bring me one please!"],
        ),
        ("Playlist suggestions for focus time?", ["Lo-fi beats, always.", "Film soundtracks."]),
        ("Just saw a double rainbow from the office window.", ["Photo or it did not happen."]),
        (
            "Fun fact: the first computer bug was an actual moth.",
            ["Found by Grace's team, no less.", "It is still taped into the logbook."],
        ),
        ("Who is up for board games on {weekday} evening?", ["Me!", "I will bring Carcassonne."]),
        ("My sourdough starter survived the week.", ["Congratulations!", "Pics please."]),
    ],
    "announcements": [
        ("The office will be closed on {weekday} for the public holiday.", []),
        (
            "New security policy: please enable two-factor authentication on all accounts "
            "by the end of the month.",
            ["Done!"],
        ),
        ("Benefits enrollment is open until the 30th.", []),
        (
            "We shipped version {version} this week. Thank you all for the hard work!",
            ["Great work, team!"],
        ),
        ("The recording of the quarterly all-hands is on the intranet.", []),
    ],
    "design": [
        (
            "New mockups for the settings page are in Figma.",
            ["Love the spacing.", "Could the save button be sticky?", "Updated, take a look."],
        ),
        (
            "Accessibility audit results: contrast issues on {n} screens.",
            ["I will fix the tokens."],
        ),
        ("Icon set v2 is ready for review.", []),
        (
            "User interviews for the onboarding flow are scheduled for {weekday}.",
            ["I can take notes.", "Thanks {person}!"],
        ),
    ],
    "leads": [
        (
            "Headcount planning for next quarter: please send your requests by {weekday}.",
            ["Sent mine.", "I will need one more backend engineer for {service}."],
        ),
        ("The 1:1 notes template is updated in the wiki.", []),
        (
            "Interview loop for the senior engineer role: {person} and I are on the panel.",
            ["I can take the system design round."],
        ),
        (
            "Let us review the incident process at our next sync.",
            ["Agreed, the last on-call rotation was rough."],
        ),
    ],
    "people-ops": [
        ("The benefits vendor renewal call is on {weekday}.", ["I will join."]),
        ("Updated the parental leave policy draft, comments welcome.", []),
    ],
    "dm-ada-grace": [
        ("Thanks for the review yesterday!", ["Anytime."]),
        ("Do you have the link to the architecture diagram?", ["Sent it by email."]),
        ("Coffee later?", ["Yes, 15:00?", "Perfect."]),
        ("How did the interview go?", ["Really well, strong candidate."]),
    ],
}

# Bot-authored roots for engineering.
BOT_MESSAGES = [
    "Deploy of {service} v{version} to production succeeded.",
    "Nightly build of {service} passed ({n} minutes).",
]

REACTIONS = ["thumbsup", "eyes", "tada", "heart", "rocket", "white_check_mark", "joy", "pray"]


@dataclass(frozen=True)
class Scripted:
    """A fixed message (and replies) at a fixed time; ``when`` is (day 0-4, "HH:MM")."""

    channel: str
    author: str
    when: tuple[int, str]
    text: str
    replies: list[tuple[str, int, str]] = field(default_factory=list)  # author, minutes, text
    reactions: dict[str, list[str]] = field(default_factory=dict)


SCRIPT: list[Scripted] = [
    Scripted(
        "engineering",
        "dennis",
        (1, "10:20"),
        "Postmortem for Monday's outage is up in the wiki: the Postgres connection pool was "
        "exhausted by the nightly reindex job. Action items are at the bottom.",
        [
            ("margaret", 9, "Thanks for writing it up so quickly."),
            ("ada", 25, "I will take the action item about pool limits."),
        ],
        {"pray": ["margaret", "alan"]},
    ),
    Scripted(
        "general",
        "katherine",
        (2, "09:30"),
        "Reminder: the team offsite in Lisbon is on June 19. Please book your travel by Friday; "
        "@ada and @grace, you still need to confirm your hotel.",
        [("ada", 12, "Confirmed, thanks Katherine!")],
    ),
    Scripted(
        "engineering",
        "barbara",
        (2, "15:20"),
        "@ada thanks for the thorough review on the retry middleware PR, merged!",
        reactions={"tada": ["ada", "grace"]},
    ),
    Scripted(
        "people-ops",
        "grace",
        (2, "11:00"),
        "Payroll export for June is ready for review. @ada asked about the contractor invoices, "
        "I will follow up with her.",
    ),
    Scripted(
        "engineering",
        "margaret",
        (3, "10:00"),
        "Should we switch the queue consumers to batch acknowledgements? Throughput would "
        "roughly double.",
        [
            ("alan", 20, "Worth trying. @ada wrote the original consumer, she knows the pitfalls."),
            ("ada", 35, "Main pitfall: redelivery after a crash. Batches of 50 should be fine."),
        ],
    ),
    Scripted(
        "engineering",
        "grace",
        (3, "14:05"),
        "@ada the flamegraph from the checkout service shows most of the time going into JSON "
        "serialization. Can you take a look before Friday's release?",
        [
            ("ada", 12, "On it. I suspect the custom encoder for decimals."),
            ("alan", 30, "If it helps, the flamegraph for billing looks similar."),
            ("grace", 41, "Thanks both! Let us sync after standup tomorrow."),
        ],
        {"eyes": ["alan", "margaret"]},
    ),
    Scripted(
        "leads",
        "margaret",
        (3, "16:10"),
        "@ada could you draft the Q3 roadmap before Monday? The budget for the observability "
        "work is approved.",
        [("grace", 15, "Happy to review it.")],
    ),
    Scripted(
        "dm-ada-grace",
        "grace",
        (3, "17:45"),
        "@ada are you free for a quick call about Project Nightingale tomorrow morning?",
    ),
    Scripted(
        "announcements",
        "katherine",
        (4, "09:00"),
        "All-hands moves to Thursday 15:00 UTC next week. @ada will demo the new search feature.",
        reactions={"tada": ["grace", "alan", "dennis"]},
    ),
    Scripted(
        "random",
        "alan",
        (4, "11:00"),
        "@ada did you ever finish that book about the Analytical Engine? I would love to borrow "
        "it.",
    ),
]
