-- An account bound to one device: while it has a live device, a redeem
-- from any other device is refused (account edit --one-device).
ALTER TABLE accounts ADD COLUMN one_device INTEGER NOT NULL DEFAULT 0;
