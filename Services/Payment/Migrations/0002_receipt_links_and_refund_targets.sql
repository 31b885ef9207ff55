-- Receipt links: a random token per issued receipt makes `/v1/receipts/{order}?token=…` open
-- that one receipt and nothing else, as a provider's hosted receipt URL does. Orders paid before
-- this migration have none (their receipts are read signed in).
ALTER TABLE orders ADD COLUMN receipt_token text;

-- A refund returns either the order's own payment (`order`) or a second payment that arrived for
-- an order already paid another way (`duplicate_payment`): the latter names the payment it
-- returns (method, provider transaction, amount) and never counts towards the order's refunded
-- total. `settled_by` / `note`: who paid a manual (bank transfer) refund back, and how.
ALTER TABLE refunds
    ADD COLUMN kind text NOT NULL DEFAULT 'order' CHECK (kind IN ('order', 'duplicate_payment')),
    ADD COLUMN method text,
    ADD COLUMN provider_transaction_id text,
    ADD COLUMN paid_amount_minor bigint,
    ADD COLUMN settled_by text,
    ADD COLUMN note text;
CREATE INDEX refunds_manual ON refunds (created_at) WHERE status = 'manual';
