import Foundation
import GRDB

extension AppDatabase {
    static func enqueue(_ email: OutboxMessage, due: Date, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO outbox (recipient, envelope_from, message, created_at, due_at, attempts) VALUES (?, ?, ?, ?, ?, 0)
            """, arguments: [email.recipient, email.envelopeFrom, email.message, due, due])
    }

    /// Emails of the outbox whose time has come, oldest first, taken by this process: another `serve` on the
    /// file does not get them for ``outboxHoldSeconds``.
    public func takeDueOutbox(now: Date, limit: Int) throws(AppealsError) -> [OutboxMessage] {
        try write { db in
            let due = try Row.fetchAll(db, sql: "SELECT id, recipient, envelope_from, message, attempts FROM outbox WHERE due_at <= ? ORDER BY id LIMIT ?",
                                       arguments: [now, limit]).map { row in
                OutboxMessage(id: row[0], recipient: row[1], envelopeFrom: row[2], message: row[3], attempts: row[4])
            }
            let ids = due.map { $0.id! }
            if !ids.isEmpty {
                try db.execute(sql: "UPDATE outbox SET due_at = ? WHERE id IN (\(sqlPlaceholders(ids.count)))",
                               arguments: StatementArguments([now.addingTimeInterval(outboxHoldSeconds)] + ids))
            }
            return due
        }
    }

    /// The transport took these emails (or refused them for good): they leave the outbox.
    public func removeFromOutbox(_ ids: [Int64]) throws(AppealsError) {
        guard !ids.isEmpty else { return }
        try write { db in try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(sqlPlaceholders(ids.count)))", arguments: StatementArguments(ids)) }
    }

    /// The email could not be handed over now: tried again at `due`.
    public func deferOutbox(_ id: Int64, until due: Date) throws(AppealsError) {
        try write { db in try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, due_at = ? WHERE id = ?", arguments: [due, id]) }
    }

    /// A key the database made for the web server's MACs, never shown.
    public func secretKey(named name: String) throws(AppealsError) -> Data {
        try read { db in
            guard let key = try Data.fetchOne(db, sql: "SELECT value FROM secret_key WHERE name = ?", arguments: [name]) else {
                throw AppealsError.storage("the database has no \(name) key: run appeal-cli init")
            }
            return key
        }
    }
}
