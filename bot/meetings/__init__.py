"""Government–enterprise breakfast meetings (政企早茶会): signup, waitlist, reminders, check-in."""
