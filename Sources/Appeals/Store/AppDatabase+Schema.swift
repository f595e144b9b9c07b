import GRDB

extension AppDatabase {
    /// The schema's history. A released migration is never edited: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE campaign (
                    id INTEGER PRIMARY KEY,
                    slug TEXT NOT NULL UNIQUE
                        CHECK (length(slug) BETWEEN 1 AND 64 AND slug NOT GLOB '*[^a-z0-9-]*'),
                    title TEXT NOT NULL CHECK (title <> ''),
                    organization TEXT NOT NULL CHECK (organization <> ''),
                    summary TEXT NOT NULL,
                    demands TEXT NOT NULL CHECK (json_valid(demands) AND json_type(demands) = 'array'),
                    languages TEXT NOT NULL
                        CHECK (json_valid(languages) AND json_type(languages) = 'array' AND json_array_length(languages) > 0),
                    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'closed')),
                    deadline TEXT CHECK (deadline IS NULL OR date(deadline) = deadline),
                    sending_hours TEXT,
                    created_at TEXT NOT NULL
                );

                CREATE TABLE campaign_template (
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
                    language TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    letter TEXT NOT NULL,
                    PRIMARY KEY (campaign_id, language)
                );

                CREATE TABLE target (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('official', 'embassy')),
                    name TEXT NOT NULL CHECK (name <> ''),
                    title TEXT NOT NULL,
                    salutation TEXT NOT NULL,
                    email TEXT NOT NULL CHECK (email LIKE '_%@_%' AND email NOT GLOB '*[ ,<>' || char(10) || char(13) || ']*'),
                    email_key TEXT NOT NULL CHECK (email_key = lower(trim(email))),
                    country TEXT CHECK (country IS NULL OR (length(country) = 2 AND country NOT GLOB '*[^A-Z]*')),
                    language TEXT,
                    postal_address TEXT,
                    fax TEXT,
                    timezone TEXT,
                    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
                    disabled_reason TEXT,
                    CHECK (kind <> 'embassy' OR country IS NOT NULL),
                    UNIQUE (campaign_id, email_key),
                    UNIQUE (id, campaign_id)
                );
                -- The targeting rule picks the one embassy in the supporter's country.
                CREATE UNIQUE INDEX target_embassy_country ON target(campaign_id, country) WHERE kind = 'embassy';

                CREATE TABLE supporter (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    email TEXT CHECK (email IS NULL OR (email LIKE '_%@_%' AND email NOT GLOB '*[ ,<>' || char(10) || char(13) || ']*')),
                    email_key TEXT CHECK (email_key IS lower(trim(email))),
                    country TEXT CHECK (country IS NULL OR (length(country) = 2 AND country NOT GLOB '*[^A-Z]*')),
                    city TEXT,
                    language TEXT,
                    consent INTEGER CHECK (consent IS NULL OR consent IN (0, 1)),
                    personal_note TEXT,
                    created_at TEXT NOT NULL,
                    erased_at TEXT,
                    -- Only an erased supporter has no address.
                    CHECK (erased_at IS NOT NULL OR (email IS NOT NULL AND name <> '')),
                    UNIQUE (campaign_id, email_key),
                    UNIQUE (id, campaign_id)
                );

                CREATE TABLE letter (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id),
                    supporter_id INTEGER NOT NULL,
                    target_id INTEGER NOT NULL,
                    language TEXT NOT NULL,
                    message_id TEXT NOT NULL UNIQUE CHECK (message_id GLOB '<?*@?*>'),
                    status TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'cancelled')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    last_code INTEGER,
                    last_reply TEXT,
                    queued_at TEXT NOT NULL,
                    due_at TEXT NOT NULL,
                    -- The send run holding a letter in `sending`, so a dead run's letters can be found.
                    claimed_by TEXT,
                    claimed_at TEXT,
                    sent_at TEXT,
                    updated_at TEXT NOT NULL,
                    possible_duplicate INTEGER NOT NULL DEFAULT 0 CHECK (possible_duplicate IN (0, 1)),
                    CHECK (status <> 'sent' OR sent_at IS NOT NULL),
                    CHECK ((status = 'sending') = (claimed_by IS NOT NULL)),
                    -- One letter per (campaign, supporter, target): never two.
                    UNIQUE (campaign_id, supporter_id, target_id),
                    -- A letter's supporter and target belong to its campaign.
                    FOREIGN KEY (supporter_id, campaign_id) REFERENCES supporter(id, campaign_id),
                    FOREIGN KEY (target_id, campaign_id) REFERENCES target(id, campaign_id)
                );
                CREATE INDEX letter_due ON letter(status, due_at);

                -- A letter's text, written once when it is queued. Apart from the letter row, so that every
                -- status change rewrites a row of a few hundred bytes, not the letter's kilobytes.
                CREATE TABLE letter_text (
                    letter_id INTEGER PRIMARY KEY REFERENCES letter(id) ON DELETE CASCADE,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE INDEX letter_supporter ON letter(supporter_id);
                CREATE INDEX letter_target ON letter(target_id, status);

                CREATE TABLE delivery_attempt (
                    id INTEGER PRIMARY KEY,
                    letter_id INTEGER NOT NULL REFERENCES letter(id) ON DELETE CASCADE,
                    attempted_at TEXT NOT NULL,
                    code INTEGER,
                    reply TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'failed', 'unknown'))
                );
                CREATE INDEX delivery_attempt_letter ON delivery_attempt(letter_id);
                """)
        }
        migrator.registerMigration("v2: targets can be removed") { db in
            // A removed target keeps its row, so that its letters keep their counts; it receives nothing more.
            try db.execute(sql: "ALTER TABLE target ADD COLUMN removed_at TEXT")
            // Erasure is looked up by the sender and by recovery.
            try db.execute(sql: "CREATE INDEX supporter_erased ON supporter(erased_at) WHERE erased_at IS NOT NULL")
        }
        migrator.registerMigration("v3: letters in each language throughout") { db in
            // Demands and salutations in other languages than the first: JSON objects by language code.
            try db.execute(sql: """
                ALTER TABLE campaign ADD COLUMN demands_by_language TEXT NOT NULL DEFAULT '{}'
                    CHECK (json_valid(demands_by_language) AND json_type(demands_by_language) = 'object');
                ALTER TABLE target ADD COLUMN salutations TEXT NOT NULL DEFAULT '{}'
                    CHECK (json_valid(salutations) AND json_type(salutations) = 'object');
                """)
        }
        migrator.registerMigration("v4: supporters write from the web") { db in
            try db.execute(sql: """
                -- A supporter's letters as submitted on the campaign page, waiting for the link in the confirmation
                -- email. Only the token's SHA-256 is kept: a copy of the database does not confirm anything.
                CREATE TABLE submission (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id) ON DELETE CASCADE,
                    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
                    name TEXT NOT NULL,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL,
                    country TEXT,
                    city TEXT,
                    language TEXT,
                    personal_note TEXT,
                    page_language TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    confirmed_at TEXT,
                    -- The supporter the confirmation created or found: the link then shows their letters.
                    supporter_id INTEGER REFERENCES supporter(id) ON DELETE SET NULL
                );
                CREATE INDEX submission_email ON submission(campaign_id, email_key, created_at);
                CREATE INDEX submission_expiry ON submission(expires_at) WHERE confirmed_at IS NULL;

                -- Confirmation emails not yet handed to the transport; a row is deleted once it is.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    recipient TEXT NOT NULL,
                    envelope_from TEXT NOT NULL,
                    message BLOB NOT NULL,
                    created_at TEXT NOT NULL,
                    due_at TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX outbox_due ON outbox(due_at);

                -- Keys made here, never shown: the web server's MACs (forms, the organizers' session).
                CREATE TABLE secret_key (
                    name TEXT PRIMARY KEY,
                    value BLOB NOT NULL CHECK (length(value) >= 32)
                );
                """)
            try db.execute(sql: "INSERT INTO secret_key (name, value) VALUES ('web', ?)", arguments: [SecretKey.random()])
        }
        migrator.registerMigration("v5: bounces") { db in
            // `bounced` joins the letter statuses: SQLite cannot change a CHECK, so the table is built anew
            // (foreign keys are checked once the migration is done).
            try db.execute(sql: """
                CREATE TABLE new_letter (
                    id INTEGER PRIMARY KEY,
                    campaign_id INTEGER NOT NULL REFERENCES campaign(id),
                    supporter_id INTEGER NOT NULL,
                    target_id INTEGER NOT NULL,
                    language TEXT NOT NULL,
                    message_id TEXT NOT NULL UNIQUE CHECK (message_id GLOB '<?*@?*>'),
                    status TEXT NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'cancelled', 'bounced')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    last_code INTEGER,
                    last_reply TEXT,
                    queued_at TEXT NOT NULL,
                    due_at TEXT NOT NULL,
                    claimed_by TEXT,
                    claimed_at TEXT,
                    sent_at TEXT,
                    updated_at TEXT NOT NULL,
                    possible_duplicate INTEGER NOT NULL DEFAULT 0 CHECK (possible_duplicate IN (0, 1)),
                    bounced_at TEXT,
                    CHECK (status NOT IN ('sent', 'bounced') OR sent_at IS NOT NULL),
                    CHECK ((status = 'bounced') = (bounced_at IS NOT NULL)),
                    CHECK ((status = 'sending') = (claimed_by IS NOT NULL)),
                    UNIQUE (campaign_id, supporter_id, target_id),
                    FOREIGN KEY (supporter_id, campaign_id) REFERENCES supporter(id, campaign_id),
                    FOREIGN KEY (target_id, campaign_id) REFERENCES target(id, campaign_id)
                );
                INSERT INTO new_letter (id, campaign_id, supporter_id, target_id, language, message_id, status, attempts,
                                        last_code, last_reply, queued_at, due_at, claimed_by, claimed_at, sent_at, updated_at,
                                        possible_duplicate)
                    SELECT id, campaign_id, supporter_id, target_id, language, message_id, status, attempts,
                           last_code, last_reply, queued_at, due_at, claimed_by, claimed_at, sent_at, updated_at,
                           possible_duplicate FROM letter;
                DROP TABLE letter;
                ALTER TABLE new_letter RENAME TO letter;
                CREATE INDEX letter_due ON letter(status, due_at);
                CREATE INDEX letter_supporter ON letter(supporter_id);
                CREATE INDEX letter_target ON letter(target_id, status);

                -- Every message `bounces ingest` read, once (by its SHA-256), with what it did. The message itself
                -- is kept only when it could not be matched to a letter, for the organizer to look at.
                CREATE TABLE bounce_message (
                    id INTEGER PRIMARY KEY,
                    sha256 BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32),
                    received_at TEXT NOT NULL,
                    source TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sender TEXT,
                    subject TEXT,
                    format TEXT NOT NULL CHECK (format IN ('dsn', 'text', 'arf', 'auto-reply', 'none')),
                    class TEXT NOT NULL,
                    -- What the return path said: no token, a valid one, a test sample's, or one whose MAC is wrong.
                    verp TEXT NOT NULL CHECK (verp IN ('none', 'letter', 'test', 'forged')),
                    campaign_id INTEGER REFERENCES campaign(id) ON DELETE CASCADE,
                    outcome TEXT NOT NULL,
                    problem TEXT,
                    raw BLOB
                );
                CREATE INDEX bounce_message_campaign ON bounce_message(campaign_id, received_at);

                -- One row per recipient a bounce reports on.
                CREATE TABLE bounce (
                    id INTEGER PRIMARY KEY,
                    message_id INTEGER NOT NULL REFERENCES bounce_message(id) ON DELETE CASCADE,
                    received_at TEXT NOT NULL,
                    letter_id INTEGER REFERENCES letter(id) ON DELETE SET NULL,
                    target_id INTEGER REFERENCES target(id) ON DELETE SET NULL,
                    matched_by TEXT CHECK (matched_by IN ('verp', 'message-id', 'recipient')),
                    recipient TEXT NOT NULL,
                    action TEXT,
                    status TEXT,
                    diagnostic TEXT,
                    class TEXT NOT NULL CHECK (class IN ('mailbox', 'policy', 'rejected', 'transient', 'delayed', 'delivered',
                                                         'auto-reply', 'feedback', 'unrecognized')),
                    -- Counted against the target: a verified report about the target's own address.
                    counted INTEGER NOT NULL DEFAULT 0 CHECK (counted IN (0, 1)),
                    effect TEXT NOT NULL
                );
                CREATE INDEX bounce_letter ON bounce(letter_id);
                CREATE INDEX bounce_target ON bounce(target_id, class, received_at) WHERE counted = 1;
                """)
            // The key of the return paths' MACs: a bounce must carry one made here to change anything.
            try db.execute(sql: "INSERT INTO secret_key (name, value) VALUES ('verp', ?)", arguments: [SecretKey.random()])
        }
        return migrator
    }
}
