"""The first built-in apps: hello, blink, crash_dummy (after libtock-c's examples of those names)."""

from __future__ import annotations

from .. import drivers as D
from . import Param, register


@register("hello", {"text": Param("Hello World!\n", "what to write")})
def hello(tock, text="Hello World!\n"):
    """Writes "Hello World!" to the console, then yields forever."""
    yield from tock.console_write(text)


@register("blink", {"period": Param(500, "time between toggles, in ms (or a duration: 250ms, 1s)", unit="ms"),
                    "led": Param(0, "which LED")})
def blink(tock, period=500, led=0):
    """Toggles an LED (command led 3 N) every period, timed by the alarm."""

    def toggle():
        yield tock.led_toggle(led)

    yield from tock.every_ms(period, toggle)


@register("crash_dummy", {
    "after": Param(0, "fault once main has made N syscalls (0: never)"),
    "on": Param("auto", "fault on a button press (auto: button, or none when after is set)",
                choices=("auto", "button", "none")),
    "button": Param(0, "which button"),
})
def crash_dummy(tock, after=0, on="auto", button=0):
    """Faults (an access to address 0, refused by the MPU) after N syscalls or on a button press."""
    if on == "auto":
        on = "none" if after else "button"
    made = 0

    def crash():
        # What libtock-c's crash_dummy does: touch memory the MPU does not give the app.
        tock.write(0x0, b"\x00\x00\x00\x00")

    if on == "button":
        def pressed(_btn, is_pressed):
            if is_pressed:
                crash()

        for req in (tock.subscribe(D.BUTTON, 0, pressed), tock.button_enable_interrupt(button)):
            if after and made >= after:
                crash()
            yield req
            made += 1
    if after:
        while made < after:
            yield tock.command(D.ALARM, D.ALARM_CMD_NOW)  # busy: read the clock
            made += 1
        crash()
