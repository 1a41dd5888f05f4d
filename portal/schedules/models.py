"""Recurring schedules of a profile, and the starts they made (issue 12, DESIGN §5).

``ScheduleStart`` is the exactly-once key: one row per schedule and start time (a unique constraint),
written by whichever worker claims the start; the others find it taken and do nothing. A start is
``started`` (with its run) or ``skipped`` (with the reason, e.g. a production run was still active).
"""
from ..exporting.messages import stored_text
from ..extensions import db
from ..models.base import TimestampMixin, utcnow


class Schedule(TimestampMixin, db.Model):
    __tablename__ = "schedules"
    id = db.Column(db.Integer, primary_key=True)
    profile_id = db.Column(db.ForeignKey("export_profiles.id", ondelete="CASCADE"), nullable=False, index=True)
    frequency = db.Column(db.String(12), nullable=False)         # daily, weekly, monthly, quarterly
    weekday = db.Column(db.Integer, nullable=True)                # weekly: 0 = Monday
    day = db.Column(db.Integer, nullable=True)                    # monthly/quarterly: 1-31, 0 = last day
    hour = db.Column(db.Integer, nullable=False)
    minute = db.Column(db.Integer, nullable=False, default=0)
    window = db.Column(db.String(24), nullable=False)             # timetable.WINDOWS
    mode = db.Column(db.String(12), nullable=False, default="test")
    # The profile's own parameters: booking_date_rule ("window_end" or "start_day"), description,
    # debtors ([{"company_id", "number"}]: ``exporting.debtor_selection``; before: debtor_numbers, numbers).
    params = db.Column(db.JSON, nullable=False, default=dict)
    paused = db.Column(db.Boolean, nullable=False, default=False)
    next_start_at = db.Column(db.DateTime, nullable=True)         # UTC; None while paused
    locale = db.Column(db.String(8), nullable=False, default="en")  # the language of its runs' reports
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # The one-time token of the New schedule form that created it: the same form sent again creates nothing.
    form_token = db.Column(db.String(80), nullable=True)

    profile = db.relationship("ExportProfile")
    created_by = db.relationship("User")

    __table_args__ = (db.Index("ix_schedules_due", "paused", "next_start_at"),
                      db.Index("uq_schedules_form_token", "form_token", unique=True))


class ScheduleStart(db.Model):
    __tablename__ = "schedule_starts"
    id = db.Column(db.Integer, primary_key=True)
    schedule_id = db.Column(db.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False)
    due_at = db.Column(db.DateTime, nullable=False)               # the start time (UTC) this row is for
    run_id = db.Column(db.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True)
    state = db.Column(db.String(12), nullable=False)              # started, skipped
    code = db.Column(db.String(60), nullable=True)                # why it was skipped
    reason = db.Column(db.Text, nullable=True)                    # as written then (the schedule's language)
    reason_message = db.Column(db.JSON, nullable=True)            # shown in the reader's: ``reason_text``
    late = db.Column(db.Boolean, nullable=False, default=False)   # made up after a missed start
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    schedule = db.relationship("Schedule")
    run = db.relationship("Run")

    @property
    def reason_text(self):
        """Why it was skipped, in the current locale (a start skipped before reasons were stored as
        messages: the text it has)."""
        return stored_text(self.reason_message) if self.reason_message else (self.reason or "")

    __table_args__ = (db.UniqueConstraint("schedule_id", "due_at", name="uq_schedule_starts_once"),)
