import Foundation
import GRDB

extension AppDatabase {
    /// Finishes the work of send runs that died: letters they left in `sending` are settled from their
    /// journals (``DeliveryJournal``). A reply the dead run received is recorded as it would have recorded it;
    /// a letter it never handed to a server goes back to the queue as it was; a letter it handed over without
    /// getting a reply is queued again, due now, with the same Message-ID, and marked as a possible
    /// duplicate. A dead run without a journal (it died before writing one) has all its letters marked.
    /// - Parameters:
    ///   - policy: the retry rule for replies found in journals.
    ///   - isAlive: whether the run with that id still runs.
    /// - Returns: how many letters were marked as possible duplicates.
    @discardableResult
    public func recoverAbandoned(now: Date, policy: RetryPolicy, isAlive: (String) -> Bool) throws(AppealsError) -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: SendRunLease.folder(for: path))) ?? []
        let journaled = files.filter { $0.hasSuffix(".journal") }.map { String($0.dropLast(".journal".count)) }
        // The dead runs' letters first, then their journals read outside the write transaction, for those
        // letters only.
        let held: [String: Set<Int64>] = try read { db in
            var held: [String: Set<Int64>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT claimed_by, id FROM letter WHERE status = 'sending' AND claimed_by IS NOT NULL") {
                held[row[0], default: []].insert(row[1])
            }
            return held
        }
        let dead = Set(held.keys).union(journaled).sorted().filter { !isAlive($0) }
        var journals: [String: JournalReplay] = [:]
        var replayed: [String] = []
        for owner in dead {
            let journalPath = DeliveryJournal.path(databasePath: path, runId: owner)
            let letters = held[owner] ?? []
            if let journal = letters.isEmpty ? JournalReplay() : JournalReplay(path: journalPath, letters: letters) {
                journals[owner] = journal
            }
            if journaled.contains(owner) { replayed.append(journalPath) }
        }
        let duplicates = try write { db in
            var duplicates = 0
            for owner in dead {
                let journal = journals[owner]
                if let journal {
                    let outcomes = journal.replies
                    let statuses = try Self.record(outcomes, owner: owner, policy: policy, jitter: { Double.random(in: 0..<1) }, in: db)
                    duplicates += outcomes.filter { $0.result == .unknown && statuses[$0.letterId] != nil }.count
                }
                // An erased supporter's letters are never sent again in their name.
                try db.execute(sql: """
                    UPDATE letter SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = ?
                    WHERE status = 'sending' AND claimed_by = ?
                      AND supporter_id IN (SELECT id FROM supporter WHERE erased_at IS NOT NULL)
                    """, arguments: [now, owner])
                let requeue = try db.cachedStatement(sql: """
                    UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, due_at = ?, updated_at = ?,
                        possible_duplicate = 1
                    WHERE id = ? AND status = 'sending' AND claimed_by = ?
                    """)
                if let journal {
                    for id in journal.unanswered {
                        try requeue.execute(arguments: [now, now, id, owner])
                        duplicates += db.changesCount
                    }
                    // Never handed over: back in the queue as if never claimed.
                    try db.execute(sql: """
                        UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = ?
                        WHERE status = 'sending' AND claimed_by = ?
                        """, arguments: [now, owner])
                } else {
                    try db.execute(sql: """
                        UPDATE letter SET status = 'queued', claimed_by = NULL, claimed_at = NULL, due_at = ?, updated_at = ?,
                            possible_duplicate = 1
                        WHERE status = 'sending' AND claimed_by = ?
                        """, arguments: [now, now, owner])
                    duplicates += db.changesCount
                }
            }
            return duplicates
        }
        // Only once the database holds what they said. A journal that could not be read (a folder, say) goes
        // too: its letters were all marked.
        for path in replayed where unlink(path) != 0 { rmdir(path) }
        return duplicates
    }
}
