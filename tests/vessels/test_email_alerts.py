"""E-mail alerts: an officer who opted in gets an e-mail for each positive in their scope.
The e-mail is stored in the outbox by the transaction that raised the alert (gone with
it when it rolls back) and sent by the clock, through a real SMTP server here; a server
that is down leaves it in the outbox with its error, and a later tick sends it."""

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crews.choices import TestKind, TestResult
from crews.models import Person
from crews.results import TestData, record_tests
from crews.stations import create_station, load_roster, record_staff_test
from portguard import roles
from portguard.models import AlertMail, Profile
from tests.crews.helpers import roster_lines
from tests.helpers import ARRIVAL, make_user, people_of
from vessels.clock import Clock
from vessels.mail_alerts import set_email_alerts
from vessels.mail_outbox import FIRST_RETRY
from vessels.models import Alert

SAMPLED = ARRIVAL + timedelta(hours=1)
RAISED = SAMPLED + timedelta(minutes=20)
TICK = RAISED + timedelta(seconds=15)


def opt_in(user, address: str | None = None, enabled: bool = True):
    user.email = f"{user.username}@cangvu.quangninh.gov.vn" if address is None else address
    user.save(update_fields=["email"])
    set_email_alerts(user, enabled)
    return user


def mails_to() -> dict[str, AlertMail]:
    return {m.recipient.username: m for m in AlertMail.objects.select_related("recipient")}


@pytest.fixture
def officers(inspector, outsider, authority, health, cam_pha):
    """Opted in: alice (inspector of CP-03), charlie (of HL-01), bob (authority). Not:
    hoa (health, who has an address but left it off), a second inspector of CP-03 with
    no address, a third who left the service (inactive)."""
    opt_in(inspector)
    opt_in(outsider)
    opt_in(authority)
    opt_in(health, enabled=False)
    opt_in(make_user("dung", roles.INSPECTOR, [cam_pha]), address="")
    gone = opt_in(make_user("giang", roles.INSPECTOR, [cam_pha]))
    gone.is_active = False
    gone.save(update_fields=["is_active"])


@pytest.fixture
def positive(officers, make_call, record):
    call = make_call(crew=2)
    captain = people_of(call)[0]
    record(call, captain, result=TestResult.POSITIVE, sampled_at=SAMPLED, now=RAISED)
    return call, captain


def test_a_positive_writes_one_email_for_each_officer_in_scope_who_opted_in(positive):
    call, captain = positive
    alert = Alert.objects.get()
    mails = mails_to()
    assert sorted(mails) == ["alice", "bob"], "not the outsider, nor who opted out, has no address or left"
    alice = mails["alice"]
    assert (alice.alert, alice.to, alice.sent_at, alice.attempts) == (
        alert,
        "alice@cangvu.quangninh.gov.vn",
        None,
        0,
    )
    assert (
        alice.subject == f"[PortGuard] Kết quả dương tính: {captain.full_name} — {call.vessel.registration} tại CP-03"
    )
    assert "Bến: CP-03 — Bến Mông Dương" in alice.body
    assert f"Phương tiện: {call.vessel.registration}" in alice.body
    assert f"Người: {captain.full_name}" in alice.body
    assert "Xét nghiệm: Test nhanh kháng nguyên, lấy mẫu lúc 09:00 12/08/2021" in alice.body
    assert "Phát sinh lúc: 09:20 12/08/2021 (giờ Việt Nam)" in alice.body
    assert f"http://127.0.0.1:8000/alerts/#alert-{alert.pk}" in alice.body
    assert alice.created_at == alice.next_attempt_at == RAISED
    assert mail.outbox == [], "the write sends nothing itself: the clock does"


def test_the_email_is_vietnamese_whatever_the_language_of_the_request(officers, make_call, record, settings):
    settings.PORTGUARD_BASE_URL = "https://portguard.example.vn"
    call = make_call(crew=1)
    with translation.override("en"):
        record(call, people_of(call)[0], result=TestResult.POSITIVE, kind=TestKind.RT_PCR, sampled_at=SAMPLED)
    alert = Alert.objects.get(kind="confirmed_case")
    bob = mails_to()["bob"]
    assert bob.subject.startswith("[PortGuard] Ca bệnh xác định: ")
    assert "Ca bệnh được xác định bằng RT-PCR dương tính." in bob.body
    assert f"https://portguard.example.vn/alerts/#alert-{alert.pk}" in bob.body
    assert "https://portguard.example.vn/profile/" in bob.body
    assert AlertMail.objects.filter(alert__kind="quarantine").count() == 0, "only positives are e-mailed"


def test_a_positive_pool_is_one_email_naming_everyone_to_retest(officers, make_call, health):
    call = make_call(crew=3)
    people = people_of(call)
    record_tests(
        health,
        [
            TestData(p, TestKind.RT_PCR_POOLED, SAMPLED, TestResult.POSITIVE, port_call=call, pool_id="P-07")
            for p in people
        ],
        now=RAISED,
    )
    mails = mails_to()
    assert sorted(mails) == ["alice", "bob"]
    body = mails["alice"].body
    assert "Mẫu gộp RT-PCR (P-07) dương tính" in body
    assert "Người cần xét nghiệm lại: " + ", ".join(sorted(p.full_name for p in people)) in body
    assert mails["alice"].subject.startswith("[PortGuard] Mẫu gộp dương tính: mẫu gộp P-07 — ")


def test_a_staff_positive_reaches_the_supervisor_of_their_station(
    officers, supervisor, cam_pha, ha_long, authority, settings
):
    other = opt_in(make_user("tuan", roles.SUPERVISOR))
    opt_in(supervisor)
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    create_station(code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[other])
    load_roster(supervisor, station, roster_lines(1, 1))
    staff = Person.objects.get()
    record_staff_test(
        supervisor,
        station,
        TestData(staff, TestKind.RAPID, SAMPLED, TestResult.POSITIVE),
        now=RAISED,
    )
    alert = Alert.objects.get()
    mails = mails_to()
    assert sorted(mails) == ["alice", "bob", "son"], "the station's wharf, the province and the station"
    son = mails["son"]
    assert "Trạm KCS: KCS-CP-03 — Trạm KCS Mông Dương" in son.body
    assert f"Người: {staff.full_name}" in son.body
    assert "http://127.0.0.1:8000/stations/KCS-CP-03/" in son.body, "a supervisor reads no alerts: their station"
    assert f"/alerts/#alert-{alert.pk}" in mails["alice"].body


def test_a_write_rolled_back_leaves_no_email(officers, make_call, record):
    call = make_call(crew=1)
    with transaction.atomic():
        record(call, people_of(call)[0], result=TestResult.POSITIVE, sampled_at=SAMPLED)
        assert AlertMail.objects.count() == 2
        transaction.set_rollback(True)
    assert not Alert.objects.exists()
    assert not AlertMail.objects.exists()


# --- Sending: the clock, through a real SMTP server -------------------------------------


class Inbox:
    """An aiosmtpd handler keeping what arrived."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port, started by ``up()`` (down until then)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "PortGuard <canhbao@portguard.example.vn>"
    inbox = Inbox()
    controllers = []

    def up(handler: Inbox = inbox) -> Inbox:
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()  # returns once the server answers
        controllers.append(controller)
        return handler

    yield up
    for controller in controllers:
        controller.stop()


def test_the_clock_sends_the_email_through_smtp_once(positive, smtp):
    call, captain = positive
    inbox = smtp()
    clock = Clock()
    assert clock.tick(now=TICK)
    received = {m["To"]: m for m in inbox.messages()}
    assert sorted(received) == ["alice@cangvu.quangninh.gov.vn", "bob@cangvu.quangninh.gov.vn"]
    message = received["alice@cangvu.quangninh.gov.vn"]
    assert message["From"] == "PortGuard <canhbao@portguard.example.vn>"
    # Python folds a long encoded subject onto the next line, read back with a leading space.
    assert message["Subject"].strip() == (
        f"[PortGuard] Kết quả dương tính: {captain.full_name} — {call.vessel.registration} tại CP-03"
    )
    text = message.get_content()
    assert "Một xét nghiệm sàng lọc cho kết quả dương tính." in text
    assert f"Người: {captain.full_name}" in text
    assert "Xem cảnh báo: http://127.0.0.1:8000/alerts/#alert-" in text
    assert [e.rcpt_tos for e in inbox.envelopes if "alice" in e.rcpt_tos[0]] == [["alice@cangvu.quangninh.gov.vn"]]
    assert {(m.sent_at, m.attempts, m.last_error) for m in AlertMail.objects.all()} == {(TICK, 1, "")}

    assert clock.tick(now=TICK + timedelta(seconds=15))
    assert len(inbox.envelopes) == 2, "an e-mail sent is not sent again"


def test_only_the_clock_holding_the_lease_sends(positive, smtp):
    inbox = smtp()
    first, second = Clock(), Clock()
    assert first.tick(now=TICK)
    inbox.envelopes.clear()
    AlertMail.objects.update(sent_at=None)
    assert not second.tick(now=TICK + timedelta(seconds=15))
    assert inbox.envelopes == []


def test_a_mail_server_that_is_down_is_tried_again_until_the_email_goes(positive, smtp):
    clock = Clock()
    assert clock.tick(now=TICK)
    for kept in AlertMail.objects.all():
        assert kept.sent_at is None and kept.attempts == 1
        assert kept.last_error.startswith("ConnectionRefusedError"), kept.last_error
        assert kept.next_attempt_at == TICK + FIRST_RETRY

    inbox = smtp()
    assert clock.tick(now=TICK + FIRST_RETRY - timedelta(seconds=1))
    assert inbox.envelopes == [], "not before its backoff"
    later = TICK + FIRST_RETRY
    assert clock.tick(now=later)
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == [
        "alice@cangvu.quangninh.gov.vn",
        "bob@cangvu.quangninh.gov.vn",
    ]
    assert {(m.sent_at, m.attempts) for m in AlertMail.objects.all()} == {(later, 2)}


def test_a_second_failure_waits_twice_as_long(positive, smtp):
    clock = Clock()
    assert clock.tick(now=TICK)
    assert clock.tick(now=TICK + FIRST_RETRY)
    assert {(m.attempts, m.next_attempt_at) for m in AlertMail.objects.all()} == {
        (2, TICK + FIRST_RETRY + 2 * FIRST_RETRY)
    }


class RefusingAlice(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("alice@"):
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_an_email_the_server_refuses_keeps_its_error_and_the_others_go(positive, smtp):
    inbox = smtp(RefusingAlice())
    assert Clock().tick(now=TICK)
    assert [e.rcpt_tos for e in inbox.envelopes] == [["bob@cangvu.quangninh.gov.vn"]]
    mails = mails_to()
    assert mails["bob"].sent_at == TICK
    alice = mails["alice"]
    assert (alice.sent_at, alice.attempts, alice.next_attempt_at) == (None, 1, TICK + FIRST_RETRY)
    assert alice.last_error.startswith("SMTPRecipientsRefused") and "No such user here" in alice.last_error


@pytest.mark.parametrize("calls", [2, 8])
def test_a_file_of_positives_on_many_calls_costs_the_same_few_queries_for_its_emails(
    officers, make_call, inspector, authority, calls
):
    """A lab's file touches many calls: the officers and their scopes are read once for
    the whole write, not once per call (measured: 9 more queries with three officers opted
    in, at 2 calls as at 8; it was 9 per call)."""

    def record_positives() -> int:
        made = [make_call(crew=1) for _ in range(calls)]
        entries = [
            TestData(people_of(call)[0], TestKind.RAPID, SAMPLED, TestResult.POSITIVE, port_call=call) for call in made
        ]
        with CaptureQueriesContext(connection) as queries:
            record_tests(inspector, entries, now=RAISED)
        return len(queries)

    opted_in = list(Profile.objects.filter(email_alerts=True).values_list("user_id", flat=True))
    Profile.objects.update(email_alerts=False)
    without = record_positives()
    Profile.objects.filter(user_id__in=opted_in).update(email_alerts=True)
    with_emails = record_positives()
    assert with_emails - without <= 10
    assert AlertMail.objects.filter(recipient=authority).count() == calls
