"""Driver numbers and upcall numbers an app uses, as libtock-c spells them.

These are the userspace ABI (Tock's ``capsules/core/src/driver.rs`` numbers):
apps name drivers by number, exactly as a compiled app does, and never ask the
board which capsule sits where.
"""

ALARM = 0x0
CONSOLE = 0x1
LED = 0x2
BUTTON = 0x3
LLD = 0x8
IPC = 0x10000
RADIO = 0x30001
RNG = 0x40001
REGISTRY_NAME = 0xA0000
REGISTRY_PKG = 0xA0001
RELAY = 0xA0010
IPCMGR = 0xA0100
MAILBOX = 0xA0101

# Alarm (capsules/core/src/alarm.rs)
ALARM_CMD_FREQUENCY = 1
ALARM_CMD_NOW = 2
ALARM_CMD_STOP = 3
ALARM_CMD_SET_RELATIVE = 5
ALARM_CMD_SET_ABSOLUTE = 6

# Console
CONSOLE_CMD_WRITE = 1
CONSOLE_CMD_READ = 2
CONSOLE_UPCALL_WRITE = 1
CONSOLE_UPCALL_READ = 2
CONSOLE_ALLOW_WRITE = 1
CONSOLE_ALLOW_READ = 1

# LED
LED_CMD_COUNT = 0
LED_CMD_ON = 1
LED_CMD_OFF = 2
LED_CMD_TOGGLE = 3

# Button
BUTTON_CMD_COUNT = 0
BUTTON_CMD_ENABLE_INTERRUPT = 1
BUTTON_CMD_DISABLE_INTERRUPT = 2
BUTTON_CMD_READ = 3

# 802.15.4 raw PHY driver (capsules/extra/src/ieee802154/phy_driver.rs)
RADIO_CMD_IS_ON = 1
RADIO_CMD_SET_CHANNEL = 5
RADIO_CMD_COMMIT = 7
RADIO_CMD_SEND_RAW = 27
RADIO_CMD_ON = 30
RADIO_CMD_OFF = 31
RADIO_UPCALL_RX = 0
RADIO_UPCALL_TX_DONE = 1
RADIO_ALLOW_TX = 0
RADIO_ALLOW_RX_RING = 0
