import Foundation
import GRDB

/// Where a letter stands in due order: its due time (as stored: GRDB's dates sort as text), then its id.
public struct DueKey: Sendable, Comparable {
    public var dueAt: String
    public var id: Int64

    /// - Parameter dueAt: as GRDB stores dates, `YYYY-MM-DD HH:MM:SS.SSS` in UTC.
    public init(dueAt: String, id: Int64) {
        self.dueAt = dueAt
        self.id = id
    }

    init(_ letter: LetterRef) {
        dueAt = letter.dueAt
        id = letter.id
    }

    public static func < (lhs: DueKey, rhs: DueKey) -> Bool { (lhs.dueAt, lhs.id) < (rhs.dueAt, rhs.id) }
}

/// The few columns a claim chooses by, without the letter's text.
struct LetterRef: FetchableRecord {
    var id: Int64
    var campaignId: Int64
    var targetId: Int64
    var dueAt: String

    init(row: Row) throws {
        id = row[0]
        campaignId = row[1]
        targetId = row[2]
        // GRDB stores dates as sortable text: compared as stored.
        dueAt = row[3]
    }
}

extension AppDatabase {
    /// Takes due letters for one send run, atomically: two runs never claim the same letter.
    ///
    /// A letter is due when it is `queued` or `deferred` with `due_at` passed, its campaign is `active`,
    /// its target is enabled, the target's local time is inside the campaign's sending hours, and the
    /// target has room under `perTargetPerHour`. Claimed letters become `sending`, marked with the run.
    public func claimDueLetters(_ rules: ClaimRules) throws(AppealsError) -> [DeliveryJob] {
        try write { db in
            let jobs = try Self.dueJobs(db, rules).jobs
            if jobs.isEmpty { return [] }
            let ids = jobs.map { $0.letter.id! }
            // `+status`: look the letters up by id; on `status` SQLite would walk every due letter in its index.
            try db.execute(sql: """
                UPDATE letter SET status = 'sending', claimed_by = ?, claimed_at = ?, updated_at = ?
                WHERE id IN (\(sqlPlaceholders(ids.count))) AND +status IN ('queued', 'deferred')
                """, arguments: StatementArguments([rules.owner, rules.now, rules.now] as [any DatabaseValueConvertible]) + StatementArguments(ids))
            return jobs.map { job in
                var claimed = job
                claimed.letter.status = .sending
                claimed.letter.claimedBy = rules.owner
                claimed.letter.claimedAt = rules.now
                return claimed
            }
        }
    }

    /// How many letters are due by status and time, before sending hours and per-target limits are applied.
    public func dueCount(campaign slug: String?, now: Date) throws(AppealsError) -> Int {
        try read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.status IN ('queued', 'deferred') AND l.due_at <= ? AND t.disabled = 0 AND c.status = 'active'
                  AND (? IS NULL OR c.slug = ?)
                """, arguments: [now, slug, slug]) ?? 0
        }
    }

    /// The letters a claim with `rules` would take, without taking them (`send --dry-run`), a page at a time:
    /// each page starts after `after`, the last candidate the previous page looked at.
    /// - Returns: the page's letters, and where the next page starts (`nil` after the last page).
    public func dueLetters(_ rules: ClaimRules, after: DueKey?) throws(AppealsError) -> (jobs: [DeliveryJob], next: DueKey?) {
        try read { db in try Self.dueJobs(db, rules, after: after) }
    }

    static func dueJobs(_ db: Database, _ rules: ClaimRules, after: DueKey? = nil) throws -> (jobs: [DeliveryJob], next: DueKey?) {
        let state = try claimState(db, rules)
        // Sending hours and per-target quotas may pass over some candidates: when the first page leaves
        // the claim short and more letters are due, over-fetch. Most claims need the first page only.
        var (chosen, next): ([Int64], DueKey?) = ([], nil)
        for wanted in [rules.limit, rules.limit * 4 + 100] {
            let (candidates, exhausted) = try dueCandidates(db, rules, wanted: wanted, after: after, excluding: state.closed)
            let examined: Int
            (chosen, examined) = state.policy.choose(candidates.map { ClaimPolicy.Candidate(letterId: $0.id, campaignId: $0.campaignId, targetId: $0.targetId) },
                                                     limit: rules.limit, at: rules.now, sentLastHour: state.sentLastHour)
            next = examined < candidates.count || !exhausted ? candidates.prefix(examined).last.map(DueKey.init) ?? after : nil
            if chosen.count >= rules.limit || exhausted { break }
        }
        if chosen.isEmpty { return ([], next) }
        // By primary key, ordered here: an ORDER BY would let SQLite walk the whole due-date index instead.
        let position = Dictionary(uniqueKeysWithValues: chosen.enumerated().map { ($1, $0) })
        let letters = try Letter.filter(keys: chosen).fetchAll(db).sorted { position[$0.id!]! < position[$1.id!]! }
        return (try jobs(for: letters, targets: state.targets, in: db), next)
    }

    /// What a claim chooses by: the active campaigns' enabled targets, their letters in the last hour, the
    /// policy, and the targets that can take nothing now.
    private static func claimState(_ db: Database, _ rules: ClaimRules)
        throws -> (policy: ClaimPolicy, targets: [Int64: Target], sentLastHour: [Int64: Int], closed: [Int64]) {
        var campaigns = try Campaign.filter(Column("status") == CampaignStatus.active.rawValue).fetchAll(db)
        if let slug = rules.campaign { campaigns.removeAll { $0.slug != slug } }
        let targets = try Target.filter(campaigns.map(\.id!).contains(Column("campaign_id")) && Column("disabled") == false).fetchAll(db)
        var sentLastHour: [Int64: Int] = [:]
        if rules.perTargetPerHour > 0 {
            let rows = try Row.fetchAll(db, sql: """
                SELECT target_id, COUNT(*) FROM letter
                WHERE status = 'sending' OR (status = 'sent' AND sent_at > ?) GROUP BY target_id
                """, arguments: [rules.now.addingTimeInterval(-3600)])
            for row in rows { sentLastHour[row[0]] = row[1] }
        }
        let policy = ClaimPolicy(campaigns: campaigns, targets: targets, perTargetPerHour: rules.perTargetPerHour)
        let closed = policy.closedTargets(targets, at: rules.now, sentLastHour: sentLastHour)
        return (policy, targets.keyed { $0.id! }, sentLastHour, closed)
    }

    /// Letters due by status and time, in due order, after `after`, at most `wanted` of each status.
    /// - Returns: the candidates, and whether they are all there are.
    private static func dueCandidates(_ db: Database, _ rules: ClaimRules, wanted: Int, after: DueKey?,
                                      excluding closed: [Int64]) throws -> ([LetterRef], exhausted: Bool) {
        var campaignFilter = "c.status = 'active'"
        if !closed.isEmpty { campaignFilter += " AND l.target_id NOT IN (\(closed.map(String.init).joined(separator: ",")))" }
        var campaignArguments: StatementArguments = []
        if let slug = rules.campaign {
            campaignFilter += " AND c.slug = ?"
            campaignArguments += [slug]
        }
        var afterFilter = ""
        if let after {
            afterFilter = " AND (l.due_at, l.id) > (?, ?)"
            campaignArguments += [after.dueAt, after.id]
        }
        // One status at a time: `status IN (...)` would make SQLite sort every due letter on each claim,
        // while `status = ?` walks the (status, due_at) index in order and stops at the limit.
        var candidates: [LetterRef] = []
        var exhausted = true
        // Past the last candidate of a status that was cut short, the other status's candidates are not known
        // to come first: the merged list stops there.
        var bound: DueKey?
        for status in ["queued", "deferred"] {
            let page = try LetterRef.fetchAll(db, sql: """
                SELECT l.id, l.campaign_id, l.target_id, l.due_at FROM letter l INDEXED BY letter_due
                JOIN campaign c ON c.id = l.campaign_id
                JOIN target t ON t.id = l.target_id
                WHERE l.status = ? AND l.due_at <= ? AND t.disabled = 0 AND \(campaignFilter)\(afterFilter)
                ORDER BY l.due_at, l.id LIMIT ?
                """, arguments: [status, rules.now] + campaignArguments + [wanted])
            candidates += page
            if page.count >= wanted, let last = page.last.map(DueKey.init) {
                exhausted = false
                bound = bound.map { min($0, last) } ?? last
            }
        }
        candidates.sort { DueKey($0) < DueKey($1) }
        if let bound { candidates.removeAll { DueKey($0) > bound } }
        return (candidates, exhausted)
    }

    static func jobs(for letters: [Letter], targets: [Int64: Target], in db: Database) throws -> [DeliveryJob] {
        let supporters = try Supporter.filter(keys: Set(letters.map(\.supporterId))).fetchAll(db).keyed { $0.id! }
        let texts = try LetterText.filter(keys: letters.map { $0.id! }).fetchAll(db).keyed(by: \.letterId)
        return letters.compactMap { letter in
            guard let supporter = supporters[letter.supporterId], let target = targets[letter.targetId], let text = texts[letter.id!] else { return nil }
            return DeliveryJob(letter: letter, text: text, supporter: supporter, target: target)
        }
    }

    /// One letter per enabled target of a campaign, to send as `[TEST]` samples.
    /// - Returns: the samples, and the targets that have no letter yet.
    public func sampleLetters(campaign slug: String) throws(AppealsError) -> (samples: [DeliveryJob], withoutLetter: [Target]) {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let targets = try Target.filter(Column("campaign_id") == campaign.id! && Column("disabled") == false).order(Column("id")).fetchAll(db)
            var letters: [Letter] = []
            var missing: [Target] = []
            for target in targets {
                // A cancelled letter may be an erased supporter's, emptied: never a sample.
                if let letter = try Letter.filter(Column("target_id") == target.id! && Column("status") != "cancelled").order(Column("id")).fetchOne(db) {
                    letters.append(letter)
                } else {
                    missing.append(target)
                }
            }
            return (try Self.jobs(for: letters, targets: targets.keyed { $0.id! }, in: db), missing)
        }
    }

    /// Records attempts and moves each letter on, all in one transaction.
    /// - Parameters:
    ///   - owner: only letters this run still holds are changed.
    ///   - jitter: a source of numbers in `0..<1` for the back-off.
    /// - Returns: the status each recorded letter ended in.
    @discardableResult
    public func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy,
                       jitter: () -> Double = { Double.random(in: 0..<1) }) throws(AppealsError) -> [Int64: LetterStatus] {
        guard !outcomes.isEmpty else { return [:] }
        return try write { db in try Self.record(outcomes, owner: owner, policy: policy, jitter: jitter, in: db) }
    }

    static func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy, jitter: () -> Double,
                       in db: Database) throws -> [Int64: LetterStatus] {
        var statuses: [Int64: LetterStatus] = [:]
        // Cached statements, and only the columns that change: this runs for every letter sent.
        let current = try db.cachedStatement(sql: "SELECT attempts, target_id FROM letter WHERE id = ? AND status = 'sending' AND claimed_by = ?")
        let update = try db.cachedStatement(sql: """
            UPDATE letter SET status = ?, attempts = ?, last_code = ?, last_reply = ?, updated_at = ?, claimed_by = NULL,
                claimed_at = NULL, sent_at = COALESCE(?, sent_at), due_at = COALESCE(?, due_at),
                possible_duplicate = possible_duplicate OR ?
            WHERE id = ?
            """)
        let attempt = try db.cachedStatement(sql: "INSERT INTO delivery_attempt (letter_id, attempted_at, code, reply, outcome) VALUES (?, ?, ?, ?, ?)")
        var dates = DatabaseDates()
        for outcome in outcomes {
            guard let row = try Row.fetchOne(current, arguments: [outcome.letterId, owner]) else {
                // Erased while it was being handed over: it went out all the same, and the counts say so.
                if outcome.result == .sent {
                    try db.execute(sql: """
                        UPDATE letter SET status = 'sent', attempts = attempts + 1, last_code = ?, last_reply = ?, sent_at = ?, updated_at = ?
                        WHERE id = ? AND status = 'cancelled' AND claimed_by IS NULL
                          AND supporter_id IN (SELECT id FROM supporter WHERE erased_at IS NOT NULL)
                        """, arguments: [outcome.code, outcome.reply, dates.value(outcome.at), dates.value(outcome.at), outcome.letterId])
                    if db.changesCount == 1 {
                        statuses[outcome.letterId] = .sent
                        try attempt.execute(arguments: [outcome.letterId, dates.value(outcome.at), outcome.code, outcome.reply, "sent"])
                    }
                }
                continue
            }
            let targetId: Int64 = row[1]
            let step = DeliveryStep(after: outcome, previousAttempts: row[0], policy: policy, jitter: jitter())
            let at = dates.value(outcome.at)
            try update.execute(arguments: [step.status, step.attempts, outcome.code, outcome.reply, at, dates.value(step.sentAt),
                                           dates.value(step.dueAt), step.possibleDuplicate, outcome.letterId])
            let status = step.status
            statuses[outcome.letterId] = status
            try attempt.execute(arguments: [outcome.letterId, at, outcome.code, outcome.reply, step.attemptOutcome])
            if outcome.disablesTarget {
                try db.execute(sql: "UPDATE target SET disabled = 1, disabled_reason = ? WHERE id = ?", arguments: [outcome.reply, targetId])
            }
        }
        return statuses
    }

    /// The letters `owner` holds that it may still send: still its own (an erased supporter's letters are
    /// cancelled under it), their campaign still active and their target still enabled.
    public func sendableClaims(owner: String) throws(AppealsError) -> Set<Int64> {
        try read { db in
            // `status = 'sending'` walks only the letters being sent, through the due index.
            let statement = try db.cachedStatement(sql: """
                SELECT l.id FROM letter l INDEXED BY letter_due
                JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.status = 'sending' AND l.claimed_by = ? AND c.status = 'active' AND t.disabled = 0
                """)
            return try Set(Int64.fetchCursor(statement, arguments: [owner]))
        }
    }

    /// Gives back letters a run claimed but never attempted (the run stopped early): they stay due.
    public func release(_ letterIds: [Int64], owner: String, now: Date) throws(AppealsError) {
        guard !letterIds.isEmpty else { return }
        try write { db in
            try db.execute(sql: """
                UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = ?
                WHERE +status = 'sending' AND claimed_by = ? AND id IN (\(sqlPlaceholders(letterIds.count)))
                """, arguments: StatementArguments([now, owner] as [any DatabaseValueConvertible]) + StatementArguments(letterIds))
        }
    }

    /// Makes failed, deferred or bounced letters due again now (`retry`); those of a disabled target are left as they
    /// are, since they cannot be sent: they are counted apart.
    public func retry(campaign slug: String, statuses: [LetterStatus], now: Date) throws(AppealsError) -> RetryReport {
        try write { db in
            let campaign = try Self.campaign(slug, in: db)
            let arguments = StatementArguments([campaign.id!] as [any DatabaseValueConvertible]) + StatementArguments(statuses.map(\.rawValue))
            let held = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM letter WHERE campaign_id = ? AND status IN (\(sqlPlaceholders(statuses.count)))
                  AND target_id IN (SELECT id FROM target WHERE disabled = 1)
                """, arguments: arguments) ?? 0
            try db.execute(sql: """
                UPDATE letter SET status = 'queued', due_at = ?, updated_at = ?, bounced_at = NULL,
                    attempts = CASE WHEN status IN ('failed', 'bounced') THEN 0 ELSE attempts END
                WHERE campaign_id = ? AND status IN (\(sqlPlaceholders(statuses.count)))
                  AND target_id NOT IN (SELECT id FROM target WHERE disabled = 1)
                """, arguments: StatementArguments([now, now] as [any DatabaseValueConvertible]) + arguments)
            return RetryReport(due: db.changesCount, held: held)
        }
    }
}

/// What `retry` did.
public struct RetryReport: Sendable, Equatable {
    /// Letters made due now.
    public var due: Int
    /// Letters left as they were, behind disabled targets.
    public var held: Int

    public init(due: Int, held: Int) {
        self.due = due
        self.held = held
    }
}
