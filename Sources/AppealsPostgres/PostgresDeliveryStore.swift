import Appeals
import Foundation
import GRDB
import Logging
import PostgresNIO
import Synchronization

/// Sending on PostgreSQL, by any number of send runs on any number of hosts at once.
///
/// - Claims lock the due letters they look at with `FOR UPDATE SKIP LOCKED`: two runs never wait for each
///   other, and never take the same letter. Under `perTargetPerHour`, claims take turns (a transaction
///   lock), so that the hourly count holds for every run together.
/// - Every later change of a claimed letter is fenced by its claimer: `WHERE claimed_by = run AND status =
///   'sending'`. A run that lost its letters (found dead by another) changes nothing.
/// - A run is alive while its lease row (`send_run`) is renewed; its journal is a table, so that whichever
///   run finds its lease expired settles its letters exactly as a SQLite run settles a dead run's from its
///   journal file: replies recorded, letters never handed over queued again silently, letters on the wire
///   queued again as possible duplicates.
///
/// The ``DeliveryStore`` calls block: the delivery engine makes them from threads of its own, and each one
/// waits for its query on the concurrency pool.
public final class PostgresDeliveryStore: DeliveryStore {
    let store: PostgresStore
    /// How long a run's lease lasts unless renewed; it is renewed every third of that.
    public static let leaseSeconds = 30

    public init(_ store: PostgresStore) {
        self.store = store
    }

    var logger: Logger { store.logger }
    var location: PostgresLocation { store.location }

    // MARK: Runs

    public func beginSendRun() throws(AppealsError) -> any SendRunRecord {
        let host = Self.hostName
        let id = "\(host)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let pid = Int(getpid())
        try store.blocking { () async throws(AppealsError) in
            try await self.run("""
                INSERT INTO send_run (id, host, pid, started_at, lease_until)
                VALUES (\(id), \(host), \(pid), clock_timestamp(), clock_timestamp() + make_interval(secs => \(Double(Self.leaseSeconds))))
                """)
        }
        return PostgresSendRun(id: id, store: self)
    }

    public func recoverDeadRuns(now: Date, policy: RetryPolicy) throws(AppealsError) -> Int {
        try store.blocking { () async throws(AppealsError) in
            // Runs whose lease ran out, and letters held by a run without a lease at all.
            let dead = try await self.strings("""
                SELECT id FROM send_run WHERE lease_until < clock_timestamp()
                UNION SELECT DISTINCT claimed_by FROM letter
                WHERE status = 'sending' AND claimed_by IS NOT NULL AND claimed_by NOT IN (SELECT id FROM send_run)
                """)
            var duplicates = 0
            for owner in dead.sorted() {
                duplicates += try await self.settle(deadRun: owner, now: now, policy: policy)
            }
            // Notes a run made after others had settled it (its replies, once it lost its lease) have no run left.
            try await self.run("""
                DELETE FROM send_journal j WHERE NOT EXISTS (SELECT 1 FROM send_run r WHERE r.id = j.run_id)
                  AND NOT EXISTS (SELECT 1 FROM letter l WHERE l.claimed_by = j.run_id AND l.status = 'sending')
                """)
            return duplicates
        }
    }

    /// Settles the letters of the dead run `owner` from its journal, in one transaction; another run settling
    /// it at the same time waits, then finds nothing left to do.
    private func settle(deadRun owner: String, now: Date, policy: RetryPolicy) async throws(AppealsError) -> Int {
        try await store.transaction { connection in
            // The lease row, locked: a run that renewed it in time, or that another run is settling, is left alone.
            let lease = try await connection.rows("""
                SELECT lease_until < clock_timestamp() FROM send_run WHERE id = \(owner) FOR UPDATE
                """, logger: self.logger)
            if let expired = try lease.first?.decode(Bool.self), !expired { return 0 }
            try await connection.query("DELETE FROM send_run WHERE id = \(owner)", logger: self.logger)
            let held = try await connection.rows("""
                SELECT id FROM letter WHERE status = 'sending' AND claimed_by = \(owner) ORDER BY id FOR UPDATE
                """, logger: self.logger).decode(Int64.self)
            var replay = JournalReplay()
            let notes = try await connection.rows("""
                SELECT letter_id, event, result, code, disables, at, reply FROM send_journal
                WHERE run_id = \(owner) AND letter_id = ANY(\(held)) ORDER BY seq
                """, logger: self.logger)
            for (letter, event, result, code, disables, at, reply) in try notes.decode((Int64, String, String?, Int?, Bool, Date?, String?).self) {
                switch event {
                case "started": replay.noteStarted(letter)
                case "untried": replay.noteUntried(letter)
                default:
                    guard let result = result.flatMap(DeliveryResult.init(journalName:)), let at else { continue }
                    replay.note(DeliveryOutcome(letterId: letter, result: result, code: code, reply: reply ?? "", at: at, disablesTarget: disables))
                }
            }
            let replies = replay.replies
            let statuses = try await Self.record(replies, owner: owner, policy: policy, jitters: replies.map { _ in Double.random(in: 0..<1) },
                                                 on: connection, logger: self.logger)
            var duplicates = replies.filter { $0.result == .unknown && statuses[$0.letterId] != nil }.count
            // An erased supporter's letters are never sent again in their name.
            try await connection.query("""
                UPDATE letter SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = \(now)
                WHERE status = 'sending' AND claimed_by = \(owner)
                  AND supporter_id IN (SELECT id FROM supporter WHERE erased_at IS NOT NULL)
                """, logger: self.logger)
            let unanswered = replay.unanswered
            duplicates += try await connection.rows("""
                UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, due_at = \(now), updated_at = \(now),
                    possible_duplicate = true
                WHERE id = ANY(\(unanswered)) AND status = 'sending' AND claimed_by = \(owner) RETURNING id
                """, logger: self.logger).count
            // Never handed over: back in the queue as if never claimed.
            try await connection.query("""
                UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = \(now)
                WHERE status = 'sending' AND claimed_by = \(owner)
                """, logger: self.logger)
            try await connection.query("DELETE FROM send_journal WHERE run_id = \(owner)", logger: self.logger)
            return duplicates
        }
    }

    // MARK: Claims

    public func dueCount(campaign slug: String?, now: Date) throws(AppealsError) -> Int {
        try store.blocking { () async throws(AppealsError) in
            try await self.int("""
                SELECT count(*) FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.status IN ('queued', 'deferred') AND l.due_at <= \(now) AND NOT t.disabled AND c.status = 'active'
                  AND (\(slug)::text IS NULL OR c.slug = \(slug))
                """)
        }
    }

    public func claimDueLetters(_ rules: ClaimRules) throws(AppealsError) -> [DeliveryJob] {
        try store.blocking { () async throws(AppealsError) in
            try await self.store.transaction { connection in
                // Runs count the letters each target had in the last hour one after the other, or two could both
                // take its last free place.
                if rules.perTargetPerHour > 0 {
                    try await connection.query("SELECT pg_advisory_xact_lock(4242002)", logger: self.logger)
                }
                var chosen: [Int64] = []
                let state = try await Self.claimState(rules, on: connection, logger: self.logger)
                try await Self.dueOrderPlan(on: connection, logger: self.logger)
                // Sending hours and hourly limits may pass over candidates: look further when the first look
                // leaves the claim short. The letters looked at stay locked until the commit.
                for wanted in [rules.limit, rules.limit * 4 + 100] {
                    let candidates = try await Self.candidates(rules, wanted: wanted, after: nil, excluding: state.closed, lock: true,
                                                               on: connection, logger: self.logger)
                    chosen = state.policy.choose(candidates.map(\.candidate), limit: rules.limit, at: rules.now, sentLastHour: state.sentLastHour).chosen
                    if chosen.count >= rules.limit || candidates.count < wanted { break }
                }
                if chosen.isEmpty { return [] }
                try await connection.query("""
                    UPDATE letter SET status = 'sending', claimed_by = \(rules.owner), claimed_at = \(rules.now), updated_at = \(rules.now)
                    WHERE id = ANY(\(chosen))
                    """, logger: self.logger)
                return try await Self.jobs(chosen, on: connection, logger: self.logger)
            }
        }
    }

    public func dueLetters(_ rules: ClaimRules, after: DueKey?) throws(AppealsError) -> (jobs: [DeliveryJob], next: DueKey?) {
        try store.blocking { () async throws(AppealsError) in
            try await self.store.transaction { connection in
                let state = try await Self.claimState(rules, on: connection, logger: self.logger)
                try await Self.dueOrderPlan(on: connection, logger: self.logger)
                let candidates = try await Self.candidates(rules, wanted: rules.limit, after: after, excluding: state.closed, lock: false,
                                                           on: connection, logger: self.logger)
                let chosen = state.policy.choose(candidates.map(\.candidate), limit: rules.limit, at: rules.now, sentLastHour: state.sentLastHour).chosen
                let next = candidates.count < rules.limit ? nil : candidates.last.map(\.key)
                return (try await Self.jobs(chosen, on: connection, logger: self.logger), next)
            }
        }
    }

    /// Makes the rest of the transaction read the due letters in order from the `letter_queue` index, whatever
    /// the table's statistics say: statistics taken before a large `queue` (autovacuum analyzes up to a minute
    /// later) made the planner sort every queued letter for each claim (0.7 s at 300,000 letters, against 0.3 ms),
    /// and the run's commits waited behind its claims.
    static func dueOrderPlan(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)", logger: logger)
    }

    /// Letters due by status and time, in due order, after `after`, at most `wanted`; with `lock`, locked for
    /// this transaction, passing over those another run's claim has locked.
    private static func candidates(_ rules: ClaimRules, wanted: Int, after: DueKey?, excluding closed: [Int64], lock: Bool, on connection: PostgresConnection,
                                   logger: Logger) async throws -> [(candidate: ClaimPolicy.Candidate, key: DueKey)] {
        var query: PostgresQuery = """
            SELECT l.id, l.campaign_id, l.target_id, to_char(l.due_at, 'YYYY-MM-DD HH24:MI:SS.US')
            FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
            WHERE l.status IN ('queued', 'deferred') AND l.due_at <= \(rules.now) AND NOT t.disabled AND c.status = 'active'
              AND (\(rules.campaign)::text IS NULL OR c.slug = \(rules.campaign))
              AND (\(after?.dueAt)::text IS NULL OR (l.due_at, l.id) > (\(after?.dueAt)::timestamptz, \(after?.id ?? 0)))
              AND NOT (l.target_id = ANY(\(closed)))
            ORDER BY l.due_at, l.id LIMIT \(wanted)
            """
        if lock { query.sql += " FOR UPDATE OF l SKIP LOCKED" }
        var candidates: [(ClaimPolicy.Candidate, DueKey)] = []
        for (id, campaign, target, due) in try await connection.rows(query, logger: logger).decode((Int64, Int64, Int64, String).self) {
            candidates.append((ClaimPolicy.Candidate(letterId: id, campaignId: campaign, targetId: target), DueKey(dueAt: due, id: id)))
        }
        return candidates
    }

    /// What a claim chooses by (``ClaimPolicy``): the active campaigns' sending hours, their enabled targets'
    /// time zones and letters in the last hour, and the targets that can take nothing now.
    private static func claimState(_ rules: ClaimRules, on connection: PostgresConnection, logger: Logger)
        async throws -> (policy: ClaimPolicy, sentLastHour: [Int64: Int], closed: [Int64]) {
        let campaigns = try await records(Campaign.self, """
            SELECT \(unescaped: columns("campaign")) FROM campaign
            WHERE status = 'active' AND (\(rules.campaign)::text IS NULL OR slug = \(rules.campaign))
            """, on: connection, logger: logger)
        let targets = try await records(Target.self, """
            SELECT \(unescaped: columns("target")) FROM target WHERE campaign_id = ANY(\(campaigns.map { $0.id! })) AND NOT disabled
            """, on: connection, logger: logger)
        var sentLastHour: [Int64: Int] = [:]
        if rules.perTargetPerHour > 0 {
            for (target, count) in try await connection.rows("""
                SELECT target_id, count(*) FROM letter
                WHERE status = 'sending' OR (status = 'sent' AND sent_at > \(rules.now.addingTimeInterval(-3600))) GROUP BY target_id
                """, logger: logger).decode((Int64, Int).self) {
                sentLastHour[target] = count
            }
        }
        let policy = ClaimPolicy(campaigns: campaigns, targets: targets, perTargetPerHour: rules.perTargetPerHour)
        return (policy, sentLastHour, policy.closedTargets(targets, at: rules.now, sentLastHour: sentLastHour))
    }

    /// The letters `ids`, in that order, with their texts, supporters and targets.
    static func jobs(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws -> [DeliveryJob] {
        if ids.isEmpty { return [] }
        let letters = try await records(Letter.self, "SELECT \(unescaped: columns("letter")) FROM letter WHERE id = ANY(\(ids))",
                                        on: connection, logger: logger)
        let texts = try await records(LetterText.self, "SELECT letter_id, subject, body FROM letter_text WHERE letter_id = ANY(\(ids))",
                                      on: connection, logger: logger).keyed(by: \.letterId)
        let supporters = try await records(Supporter.self, """
            SELECT \(unescaped: columns("supporter")) FROM supporter WHERE id IN (SELECT supporter_id FROM letter WHERE id = ANY(\(ids)))
            """, on: connection, logger: logger).keyed { $0.id! }
        let targets = try await records(Target.self, """
            SELECT \(unescaped: columns("target")) FROM target WHERE id IN (SELECT target_id FROM letter WHERE id = ANY(\(ids)))
            """, on: connection, logger: logger).keyed { $0.id! }
        let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        return letters.sorted { position[$0.id!]! < position[$1.id!]! }.compactMap { letter in
            guard let text = texts[letter.id!], let supporter = supporters[letter.supporterId], let target = targets[letter.targetId] else { return nil }
            return DeliveryJob(letter: letter, text: text, supporter: supporter, target: target)
        }
    }

    public func sampleLetters(campaign slug: String) throws(AppealsError) -> (samples: [DeliveryJob], withoutLetter: [Target]) {
        try store.blocking { () async throws(AppealsError) in
            try await self.store.transaction { connection in
                let campaign = try await PostgresStore.campaign(slug, on: connection, logger: self.logger, location: self.location).id!
                let targets = try await Self.records(Target.self, """
                    SELECT \(unescaped: Self.columns("target")) FROM target WHERE campaign_id = \(campaign) AND NOT disabled ORDER BY id
                    """, on: connection, logger: self.logger)
                // A cancelled letter may be an erased supporter's, emptied: never a sample.
                var first: [Int64: Int64] = [:]
                for (target, letter) in try await connection.rows("""
                    SELECT target_id, min(id) FROM letter WHERE campaign_id = \(campaign) AND status <> 'cancelled' GROUP BY target_id
                    """, logger: self.logger).decode((Int64, Int64).self) {
                    first[target] = letter
                }
                let samples = try await Self.jobs(targets.compactMap { first[$0.id!] }, on: connection, logger: self.logger)
                return (samples, targets.filter { first[$0.id!] == nil })
            }
        }
    }

    // MARK: Outcomes

    public func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy, jitter: () -> Double) throws(AppealsError) -> [Int64: LetterStatus] {
        guard !outcomes.isEmpty else { return [:] }
        let jitters = outcomes.map { _ in jitter() }
        return try store.blocking { () async throws(AppealsError) in
            try await self.store.transaction { connection in
                try await Self.record(outcomes, owner: owner, policy: policy, jitters: jitters, on: connection, logger: self.logger)
            }
        }
    }

    /// Records attempts and moves each letter on (``DeliveryStep``), in a few statements for the whole batch.
    static func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy, jitters: [Double], on connection: PostgresConnection,
                       logger: Logger) async throws -> [Int64: LetterStatus] {
        if outcomes.isEmpty { return [:] }
        var held: [Int64: (attempts: Int, target: Int64)] = [:]
        for (id, attempts, target) in try await connection.rows("""
            SELECT id, attempts, target_id FROM letter WHERE id = ANY(\(outcomes.map(\.letterId))) AND status = 'sending' AND claimed_by = \(owner)
            ORDER BY id FOR UPDATE
            """, logger: logger).decode((Int64, Int, Int64).self) {
            held[id] = (attempts, target)
        }
        // No date is NULL in an array bound here: the start of 1970 stands for none.
        let none = Date(timeIntervalSince1970: 0)
        var statuses: [Int64: LetterStatus] = [:]
        var rows = (ids: [Int64](), statuses: [String](), attempts: [Int](), codes: [Int](), replies: [String](), ats: [Date](), sentAts: [Date](),
                    dueAts: [Date](), duplicates: [Bool](), outcomes: [String]())
        var disabled: [(target: Int64, reason: String)] = []
        var erased: [DeliveryOutcome] = []
        for (outcome, jitter) in zip(outcomes, jitters) {
            guard let letter = held[outcome.letterId] else {
                // Erased while it was being handed over: it went out all the same, and the counts say so.
                if outcome.result == .sent { erased.append(outcome) }
                continue
            }
            let step = DeliveryStep(after: outcome, previousAttempts: letter.attempts, policy: policy, jitter: jitter)
            statuses[outcome.letterId] = step.status
            rows.ids.append(outcome.letterId)
            rows.statuses.append(step.status.rawValue)
            rows.attempts.append(step.attempts)
            rows.codes.append(outcome.code ?? -1)
            rows.replies.append(outcome.reply)
            rows.ats.append(outcome.at)
            rows.sentAts.append(step.sentAt ?? none)
            rows.dueAts.append(step.dueAt ?? none)
            rows.duplicates.append(step.possibleDuplicate)
            rows.outcomes.append(step.attemptOutcome)
            if outcome.disablesTarget { disabled.append((letter.target, outcome.reply)) }
        }
        if !rows.ids.isEmpty {
            try await connection.query("""
                UPDATE letter SET status = v.status, attempts = v.attempts, last_code = NULLIF(v.code, -1), last_reply = v.reply,
                    updated_at = v.at, claimed_by = NULL, claimed_at = NULL,
                    sent_at = COALESCE(NULLIF(v.sent_at, 'epoch'), letter.sent_at), due_at = COALESCE(NULLIF(v.due_at, 'epoch'), letter.due_at),
                    possible_duplicate = letter.possible_duplicate OR v.duplicate
                FROM unnest(\(rows.ids)::bigint[], \(rows.statuses)::text[], \(rows.attempts)::integer[], \(rows.codes)::integer[],
                            \(rows.replies)::text[], \(rows.ats)::timestamptz[], \(rows.sentAts)::timestamptz[], \(rows.dueAts)::timestamptz[],
                            \(rows.duplicates)::boolean[]) AS v(id, status, attempts, code, reply, at, sent_at, due_at, duplicate)
                WHERE letter.id = v.id
                """, logger: logger)
            try await connection.query("""
                INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome)
                SELECT id, at, NULLIF(code, -1), reply, outcome
                FROM unnest(\(rows.ids)::bigint[], \(rows.ats)::timestamptz[], \(rows.codes)::integer[], \(rows.replies)::text[],
                            \(rows.outcomes)::text[]) AS v(id, at, code, reply, outcome)
                """, logger: logger)
        }
        for (target, reason) in disabled {
            try await connection.query("UPDATE target SET disabled = true, disabled_reason = \(reason) WHERE id = \(target)", logger: logger)
        }
        for outcome in erased {
            let changed = try await connection.rows("""
                UPDATE letter SET status = 'sent', attempts = attempts + 1, last_code = \(outcome.code), last_reply = \(outcome.reply),
                    sent_at = \(outcome.at), updated_at = \(outcome.at)
                WHERE id = \(outcome.letterId) AND status = 'cancelled' AND claimed_by IS NULL
                  AND supporter_id IN (SELECT id FROM supporter WHERE erased_at IS NOT NULL)
                RETURNING id
                """, logger: logger)
            if !changed.isEmpty {
                statuses[outcome.letterId] = .sent
                try await connection.query("""
                    INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome)
                    VALUES (\(outcome.letterId), \(outcome.at), \(outcome.code), \(outcome.reply), 'sent')
                    """, logger: logger)
            }
        }
        return statuses
    }

    public func release(_ letterIds: [Int64], owner: String, now: Date) throws(AppealsError) {
        guard !letterIds.isEmpty else { return }
        try store.blocking { () async throws(AppealsError) in
            try await self.run("""
                UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = \(now)
                WHERE status = 'sending' AND claimed_by = \(owner) AND id = ANY(\(letterIds))
                """)
        }
    }

    public func sendableClaims(owner: String) throws(AppealsError) -> Set<Int64> {
        try store.blocking { () async throws(AppealsError) in
            Set(try await self.query("""
                SELECT l.id FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.claimed_by = \(owner) AND l.status = 'sending' AND c.status = 'active' AND NOT t.disabled
                """) { try $0.decode(Int64.self) })
        }
    }

    public func waitingLetters(campaign slug: String?, now: Date) throws(AppealsError) -> WaitingLetters {
        try store.blocking { () async throws(AppealsError) in
            let counts = try await self.query("""
                SELECT
                    count(*) FILTER (WHERE c.status = 'active' AND NOT t.disabled AND l.due_at <= \(now)),
                    count(*) FILTER (WHERE c.status = 'active' AND NOT t.disabled AND l.status = 'deferred' AND l.due_at > \(now)),
                    min(l.due_at) FILTER (WHERE c.status = 'active' AND NOT t.disabled AND l.status = 'deferred' AND l.due_at > \(now)),
                    count(*) FILTER (WHERE t.disabled),
                    count(*) FILTER (WHERE c.status = 'paused' AND NOT t.disabled)
                FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.status IN ('queued', 'deferred') AND c.status IN ('active', 'paused') AND (\(slug)::text IS NULL OR c.slug = \(slug))
                """) { try $0.decode((Int, Int, Date?, Int, Int).self) }
            var waiting = WaitingLetters()
            if let row = counts.first {
                (waiting.outsideHoursOrLimit, waiting.backingOff, waiting.nextRetry, waiting.heldByDisabledTargets, waiting.inPausedCampaigns) = row
            }
            waiting.heldByOtherRuns = try await self.query("""
                SELECT count(*) FROM letter l JOIN campaign c ON c.id = l.campaign_id
                WHERE l.status = 'sending' AND (\(slug)::text IS NULL OR c.slug = \(slug))
                """) { try $0.decode(Int.self) }.first ?? 0
            return waiting
        }
    }

    public func secretKey(named name: String) throws(AppealsError) -> Data {
        try store.blocking { () async throws(AppealsError) in
            let keys = try await self.query("SELECT value FROM secret_key WHERE name = \(name)") { try $0.decode(Data.self) }
            guard let key = keys.first else { throw .storage("\(self.location) has no \(name) key: run appeal-cli init on it") }
            return key
        }
    }

    public func reserveSendSlot(interval: TimeInterval) throws(AppealsError) -> TimeInterval? {
        try store.blocking { () async throws(AppealsError) in
            let slot = try await self.query("""
                INSERT INTO send_rate AS r (id, next_slot) SELECT 1, clock_timestamp() + make_interval(secs => \(interval))
                WHERE \(unescaped: PostgresJournal.committedLazily)
                ON CONFLICT (id) DO UPDATE SET next_slot = greatest(r.next_slot, clock_timestamp()) + make_interval(secs => \(interval))
                RETURNING extract(epoch FROM r.next_slot - clock_timestamp())::float8
                """) { try $0.decode(Double.self) }
            return max(0, (slot.first ?? interval) - interval)
        }
    }

    // MARK: Campaigns

    public func campaigns() throws(AppealsError) -> [Campaign] {
        try store.blocking { () async throws(AppealsError) in try await self.store.campaigns() }
    }

    public func campaign(_ slug: String) throws(AppealsError) -> Campaign {
        guard let campaign = try campaigns().first(where: { $0.slug == slug }) else {
            throw .notFound("no campaign \(slug) in \(location)")
        }
        return campaign
    }

    // MARK: Plumbing

    /// This machine's name, as the kernel has it (never a DNS lookup), for the runs' ids and leases.
    static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// The columns of `table` as the SQLite store holds them: lists and maps as JSON text, dates as text.
    static func columns(_ table: String) -> String {
        DatabaseCopy.tables.first { $0.name == table }!.columns.map { name, kind in
            switch kind {
            case .json, .date: "\(table).\(name)::text AS \(name)"
            default: "\(table).\(name)"
            }
        }.joined(separator: ", ")
    }

    /// Decodes rows as the SQLite store's records, by their GRDB decoding: the domain's types have one.
    static func records<Record: FetchableRecord>(_ type: Record.Type, _ query: PostgresQuery, on connection: PostgresConnection,
                                                 logger: Logger) async throws -> [Record] {
        var records: [Record] = []
        for row in try await connection.rows(query, logger: logger) {
            records.append(try Record(row: try row.grdbRow()))
        }
        return records
    }

    /// Runs one statement on its own and decodes its rows with `decode`; the server's failures (and the rows' that
    /// cannot be decoded) in this module's words.
    func query<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws(AppealsError) -> [T] {
        do {
            let logger = logger
            return try await store.leased { connection in try await connection.rows(query, logger: logger) }
                .map(decode)
        } catch {
            throw PostgresStore.appealsError(error, location)
        }
    }

    /// Runs one statement on its own.
    func run(_ query: PostgresQuery) async throws(AppealsError) {
        _ = try await self.query(query) { _ in () }
    }

    func strings(_ query: PostgresQuery) async throws(AppealsError) -> [String] {
        try await self.query(query) { try $0.decode(String.self) }
    }

    func int(_ query: PostgresQuery) async throws(AppealsError) -> Int {
        try await self.query(query) { try $0.decode(Int.self) }.first ?? 0
    }
}

/// A send run on PostgreSQL: its lease row, renewed while it runs, and its journal in `send_journal`.
final class PostgresSendRun: SendRunRecord {
    let id: String
    let store: PostgresDeliveryStore
    private let heartbeat: Task<Void, Never>

    init(id: String, store: PostgresDeliveryStore) {
        self.id = id
        self.store = store
        let interval = Duration.seconds(PostgresDeliveryStore.leaseSeconds / 3)
        heartbeat = Task(executorPreference: globalConcurrentExecutor) {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                // A renewal that fails is tried again; a lease lost meanwhile shows in the fenced journal notes.
                try? await store.run("""
                    UPDATE send_run SET lease_until = clock_timestamp() + make_interval(secs => \(Double(PostgresDeliveryStore.leaseSeconds)))
                    WHERE id = \(id)
                    """)
            }
        }
    }

    var journal: any SendJournal { PostgresJournal(runId: id, store: store) }

    func end(settled: Bool) {
        heartbeat.cancel()
        let id = id
        let store = store
        // Settled: the run and its notes go. Otherwise its lease ends now, so that the next run settles its letters
        // at once from the notes it made.
        try? store.store.blocking { () async throws(AppealsError) in
            if settled {
                try await store.run("DELETE FROM send_journal WHERE run_id = \(id)")
                try await store.run("DELETE FROM send_run WHERE id = \(id)")
            } else {
                try await store.run("UPDATE send_run SET lease_until = clock_timestamp() - interval '1 second' WHERE id = \(id)")
            }
        }
    }
}

/// A send run's notes, in the database, so that any host can settle its letters if it dies.
///
/// A note is made before each message and after each reply, and it only has to outlive the sender's process, not
/// the database server's: each is committed without waiting for the disk (`synchronous_commit` off for its own
/// transaction), on the same connections as everything else, so that a process never holds one session while it
/// waits for another.
struct PostgresJournal: SendJournal {
    /// A condition, true, that turns `synchronous_commit` off for the statement's own transaction: a note's
    /// statement is its transaction, and the setting is read when it commits.
    static let committedLazily = "set_config('synchronous_commit', 'off', true) IS NOT NULL"

    let runId: String
    let store: PostgresDeliveryStore

    /// The note is made only while the run still holds the letter, under a lock on it: once another run has
    /// settled this run's letters (its lease ran out), nothing more is handed over.
    func started(_ letterId: Int64) throws(AppealsError) {
        try noteStart(StartedNote(runId: runId, letterId: letterId), letterId)
    }

    /// The previous letter's reply and this one's start in one statement: one round trip per letter.
    func started(_ letterId: Int64, after reply: (letterId: Int64, outcome: DeliveryOutcome?)?) throws(AppealsError) {
        guard let reply else { return try started(letterId) }
        try noteStart(ReplyAndStartedNote(runId: runId, letterId: letterId, replyLetterId: reply.letterId, outcome: reply.outcome), letterId)
    }

    /// Runs a note that returns the started letter's row only while the run holds it.
    private func noteStart<Note: PostgresPreparedStatement>(_ note: Note, _ letterId: Int64) throws(AppealsError) where Note.Row == Int64 {
        let store = store
        let noted = try store.store.blocking { () async throws(AppealsError) -> Bool in
            do {
                let logger = store.logger
                return try await store.store.leased { connection in
                    for try await _ in try await connection.execute(note, logger: logger) { return true }
                    return false
                }
            } catch {
                throw PostgresStore.appealsError(error, store.location)
            }
        }
        guard noted else {
            throw .storage("send run \(runId) no longer holds letter \(letterId) (its lease ran out and another run settled its letters); the run stops")
        }
    }

    func replied(_ letterId: Int64, _ outcome: DeliveryOutcome?) {
        let runId = runId
        let store = store
        try? store.store.blocking { () async throws(AppealsError) in
            do {
                let logger = store.logger
                try await store.store.leased { connection in
                    if let outcome {
                        for try await _ in try await connection.execute(ReplyNote(runId: runId, outcome: outcome), logger: logger) {}
                    } else {
                        try await connection.query("""
                            INSERT INTO send_journal (run_id, letter_id, event) SELECT \(runId), \(letterId), 'untried' WHERE \(unescaped: PostgresJournal.committedLazily)
                            """, logger: logger)
                    }
                }
            } catch {
                throw PostgresStore.appealsError(error, store.location)
            }
        }
    }
}

extension PostgresRow {
    /// The row as GRDB's, so that the domain's records decode it as they decode the SQLite store's.
    func grdbRow() throws -> GRDB.Row {
        var values: [String: (any DatabaseValueConvertible)?] = [:]
        for cell in self {
            guard cell.bytes != nil else {
                values[cell.columnName] = DatabaseValue.null
                continue
            }
            switch cell.dataType {
            case .int2, .int4, .int8: values[cell.columnName] = try cell.decode(Int64.self)
            case .bool: values[cell.columnName] = try cell.decode(Bool.self)
            case .timestamptz, .timestamp: values[cell.columnName] = try cell.decode(Date.self)
            case .bytea: values[cell.columnName] = try cell.decode(Data.self)
            default: values[cell.columnName] = try cell.decode(String.self)
            }
        }
        return GRDB.Row(values)
    }
}

/// A run's note that it hands a letter over, made only while the run still holds it (a share lock on the letter
/// against a run settling it): prepared once per connection, as it is made for every letter.
struct StartedNote: PostgresPreparedStatement {
    static let sql = """
        WITH held AS (SELECT id FROM letter WHERE id = $2 AND claimed_by = $1 AND status = 'sending' FOR SHARE)
        INSERT INTO send_journal (run_id, letter_id, event) SELECT $1, id, 'started' FROM held
        WHERE \(PostgresJournal.committedLazily) RETURNING letter_id
        """
    typealias Row = Int64
    var runId: String
    var letterId: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(runId)
        bindings.append(letterId)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// A run's note of the server's reply to a letter.
struct ReplyNote: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO send_journal (run_id, letter_id, event, result, code, disables, at, reply)
        SELECT $1, $2, 'replied', $3, $4, $5, $6, $7 WHERE \(PostgresJournal.committedLazily) RETURNING letter_id
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .text, .int4, .bool, .timestamptz, .text]
    typealias Row = Int64
    var runId: String
    var outcome: DeliveryOutcome

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(runId)
        bindings.append(outcome.letterId)
        bindings.appendReply(outcome)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// A reply's note (or an `untried` one) and the next letter's start, in one statement.
struct ReplyAndStartedNote: PostgresPreparedStatement {
    static let sql = """
        WITH reply AS (
            INSERT INTO send_journal (run_id, letter_id, event, result, code, disables, at, reply)
            SELECT $1, $3, CASE WHEN $4::text IS NULL THEN 'untried' ELSE 'replied' END, $4, $5, $6, $7, $8
            WHERE \(PostgresJournal.committedLazily)),
        held AS (SELECT id FROM letter WHERE id = $2 AND claimed_by = $1 AND status = 'sending' FOR SHARE)
        INSERT INTO send_journal (run_id, letter_id, event) SELECT $1, id, 'started' FROM held RETURNING letter_id
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .int8, .int8, .text, .int4, .bool, .timestamptz, .text]
    typealias Row = Int64
    var runId: String
    var letterId: Int64
    var replyLetterId: Int64
    var outcome: DeliveryOutcome?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(runId)
        bindings.append(letterId)
        bindings.append(replyLetterId)
        bindings.appendReply(outcome)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

extension PostgresBindings {
    /// A reply's columns in `send_journal` (result, code, disables, at, reply); all NULL (and disables false)
    /// for a letter that was never tried.
    mutating func appendReply(_ outcome: DeliveryOutcome?) {
        append(outcome?.result.journalName)
        append(outcome?.code.map { Int32(clamping: $0) })
        append(outcome?.disablesTarget ?? false)
        append(outcome?.at)
        append(outcome?.reply)
    }
}
