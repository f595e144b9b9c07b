import Appeals
import Foundation
import GRDB
import PostgresNIO

/// Moves everything from the SQLite file to an empty PostgreSQL database (`db copy`): campaigns, targets,
/// supporters, letters with their status, attempts and texts, delivery attempts, pending confirmations,
/// bounces and the keys (so that links in confirmation emails and return paths stay valid), in one
/// PostgreSQL transaction whose row counts are checked against the file's before it commits.
public enum DatabaseCopy {
    /// What a copy moved: each table's rows, in the order copied.
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int)] = []
        public var letters: [String: Int] = [:]
    }

    enum Kind { case integer, text, time, date, json, boolean, blob }

    /// The tables, parents first, and their columns.
    static let tables: [(name: String, columns: [(String, Kind)])] = [
        ("campaign", [("id", .integer), ("slug", .text), ("title", .text), ("organization", .text), ("summary", .text),
                      ("demands", .json), ("languages", .json), ("status", .text), ("deadline", .date), ("sending_hours", .text),
                      ("created_at", .time), ("demands_by_language", .json)]),
        ("campaign_template", [("campaign_id", .integer), ("language", .text), ("subject", .text), ("letter", .text)]),
        ("target", [("id", .integer), ("campaign_id", .integer), ("kind", .text), ("name", .text), ("title", .text),
                    ("salutation", .text), ("email", .text), ("email_key", .text), ("country", .text), ("language", .text),
                    ("postal_address", .text), ("fax", .text), ("timezone", .text), ("disabled", .boolean),
                    ("disabled_reason", .text), ("removed_at", .time), ("salutations", .json)]),
        ("supporter", [("id", .integer), ("campaign_id", .integer), ("name", .text), ("email", .text), ("email_key", .text),
                       ("country", .text), ("city", .text), ("language", .text), ("consent", .boolean), ("personal_note", .text),
                       ("created_at", .time), ("erased_at", .time)]),
        ("letter", [("id", .integer), ("campaign_id", .integer), ("supporter_id", .integer), ("target_id", .integer),
                    ("language", .text), ("message_id", .text), ("status", .text), ("attempts", .integer), ("last_code", .integer),
                    ("last_reply", .text), ("queued_at", .time), ("due_at", .time), ("claimed_by", .text), ("claimed_at", .time),
                    ("sent_at", .time), ("updated_at", .time), ("possible_duplicate", .boolean), ("bounced_at", .time)]),
        ("letter_text", [("letter_id", .integer), ("subject", .text), ("body", .text)]),
        ("delivery_attempt", [("id", .integer), ("letter_id", .integer), ("attempted_at", .time), ("code", .integer),
                              ("reply", .text), ("outcome", .text)]),
        ("submission", [("id", .integer), ("campaign_id", .integer), ("token_hash", .blob), ("name", .text), ("email", .text),
                        ("email_key", .text), ("country", .text), ("city", .text), ("language", .text), ("personal_note", .text),
                        ("page_language", .text), ("created_at", .time), ("expires_at", .time), ("confirmed_at", .time),
                        ("supporter_id", .integer)]),
        ("outbox", [("id", .integer), ("recipient", .text), ("envelope_from", .text), ("message", .blob), ("created_at", .time),
                    ("due_at", .time), ("attempts", .integer)]),
        ("secret_key", [("name", .text), ("value", .blob)]),
        ("bounce_message", [("id", .integer), ("sha256", .blob), ("received_at", .time), ("source", .text), ("size", .integer),
                            ("sender", .text), ("subject", .text), ("format", .text), ("class", .text), ("verp", .text),
                            ("campaign_id", .integer), ("outcome", .text), ("problem", .text), ("raw", .blob)]),
        ("bounce", [("id", .integer), ("message_id", .integer), ("received_at", .time), ("letter_id", .integer),
                    ("target_id", .integer), ("matched_by", .text), ("recipient", .text), ("action", .text), ("status", .text),
                    ("diagnostic", .text), ("class", .text), ("counted", .boolean), ("effect", .text)]),
    ]

    /// Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table.
    static let batch = 500

    /// Copies `source` into `store`, which must hold no campaign.
    /// - Parameter progress: called after each batch with the table and the rows copied of it so far.
    /// - Throws: ``AppealsError/conflict(_:)`` when a send run holds the file, or started or anything changed
    ///   during the copy (nothing is then copied), or when `store` already holds campaigns;
    ///   ``AppealsError/storage(_:)`` when either database fails (nothing is then copied either).
    public static func copy(from source: AppDatabase, to store: PostgresStore, policy: RetryPolicy,
                            progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws(AppealsError) -> Report {
        try refuseWhileSending(source)
        // Letters a stopped run left claimed are settled first, from its journal, as `send` would.
        _ = try source.recoverDeadRuns(now: Date(), policy: policy)
        guard let pool = source.writer as? DatabasePool else { throw .storage("cannot copy \(source.path): not a database file in WAL mode") }
        // One consistent view of the file for the whole copy, read a page at a time.
        let snapshot: DatabaseSnapshot
        let counts: [String: Int]
        do {
            snapshot = try pool.makeSnapshot()
            counts = try await snapshot.read { db in try Self.counts(db) }
        } catch {
            throw .storage("cannot read \(source.path): \(error)")
        }
        let report = try await store.transaction { connection in
            let existing = try await connection.rows("SELECT count(*)::bigint FROM campaign", logger: store.logger)
            if let campaigns = try existing.first?.decode(Int64.self), campaigns > 0 {
                throw AppealsError.conflict("\(store.location) already holds \(campaigns) campaign\(campaigns == 1 ? "" : "s"): copy into an empty database")
            }
            // Keys `init` made there protect nothing yet: the file's replace them, so that links in confirmation
            // emails and return paths of letters already sent stay valid.
            try await connection.query("DELETE FROM secret_key", logger: store.logger)
            var report = Report()
            for table in tables {
                var after: Int64 = 0
                var copied = 0
                while true {
                    let page = try snapshot.read { db in
                        try Row.fetchAll(db, sql: "SELECT rowid, \(table.columns.map(\.0).joined(separator: ", ")) FROM \(table.name) WHERE rowid > ? ORDER BY rowid LIMIT \(batch)",
                                         arguments: [after])
                    }
                    guard let last = page.last else { break }
                    after = last[0]
                    try await insert(page.map { row in (1...table.columns.count).map { row[$0] as DatabaseValue } }, into: table.name,
                                     columns: table.columns, connection: connection, logger: store.logger)
                    copied += page.count
                    progress(table.name, copied)
                }
                report.tables.append((table.name, copied))
            }
            // Identities go on after the copied ids.
            for table in tables where table.columns.first?.0 == "id" {
                try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table.name)
                    """), logger: store.logger)
            }
            try await verify(counts, connection: connection, store: store)
            // A sender that started meanwhile, or any other change to the file, and the copy is not the file.
            try refuseWhileSending(source)
            let now = try await source.writer.read { db in try Self.counts(db) }
            if now != counts {
                let changed = counts.keys.sorted().filter { counts[$0] != now[$0] }
                throw AppealsError.conflict("\(source.path) changed during the copy (\(changed.joined(separator: ", "))): nothing was copied; run it again while nothing else uses the file")
            }
            for (key, value) in counts where key.hasPrefix("letter:") { report.letters[String(key.dropFirst(7))] = value }
            return report
        }
        // Statistics for the copied rows, before the first sender plans its claims on empty tables' figures.
        do {
            let names = tables.map(\.name).joined(separator: ", ")
            _ = try await store.leased { connection in try await connection.rows(PostgresQuery(unsafeSQL: "ANALYZE \(names)"), logger: store.logger) }
        } catch {
            throw PostgresStore.appealsError(error, store.location)
        }
        return report
    }

    static func refuseWhileSending(_ source: AppDatabase) throws(AppealsError) {
        if SendRunLease.anyAlive(databasePath: source.path) {
            throw .conflict("a sender is running on \(source.path) (`send` or `serve`): stop it, then copy; nothing was copied")
        }
    }

    /// Rows per table, and letters per status and with a possible duplicate, to compare both sides.
    static func counts(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables { counts[table.name] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0 }
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM letter GROUP BY status") { counts["letter:" + (row[0] as String)] = row[1] }
        counts["letter attempts"] = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(attempts), 0) FROM letter") ?? 0
        counts["possible duplicates"] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter WHERE possible_duplicate = 1") ?? 0
        return counts
    }

    /// The same counts on PostgreSQL, inside the copy's transaction: any difference rolls it back.
    static func verify(_ expected: [String: Int], connection: PostgresConnection, store: PostgresStore) async throws {
        var found: [String: Int] = [:]
        for table in tables {
            let rows = try await connection.rows(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(table.name)"), logger: store.logger)
            found[table.name] = Int(try rows.first?.decode(Int64.self) ?? 0)
        }
        for (status, count) in try await connection.rows("SELECT status, count(*)::bigint FROM letter GROUP BY status", logger: store.logger)
            .decode((String, Int64).self) {
            found["letter:" + status] = Int(count)
        }
        let attempts = try await connection.rows("SELECT coalesce(sum(attempts), 0)::bigint FROM letter", logger: store.logger)
        found["letter attempts"] = Int(try attempts.first?.decode(Int64.self) ?? 0)
        let duplicates = try await connection.rows("SELECT count(*)::bigint FROM letter WHERE possible_duplicate", logger: store.logger)
        found["possible duplicates"] = Int(try duplicates.first?.decode(Int64.self) ?? 0)
        if found != expected {
            let differing = expected.keys.sorted().filter { expected[$0] != found[$0] }.map { "\($0): \(expected[$0] ?? 0) in the file, \(found[$0] ?? 0) copied" }
            throw AppealsError.storage("the copy does not match the file (\(differing.joined(separator: "; "))): nothing was copied")
        }
    }

    /// Inserts rows of `table` in one statement, each row's values in the order of `columns`.
    /// - Returns: the `returning` column of each row inserted, if asked.
    @discardableResult
    static func insert(_ rows: [[DatabaseValue]], into table: String, columns: [(String, Kind)], onConflictDoNothing: Bool = false, returning: String? = nil,
                       connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for row in rows {
            var placeholders: [String] = []
            for (value, (_, kind)) in zip(row, columns) {
                let cast: String
                switch kind {
                case .time: cast = "::timestamptz"
                case .date: cast = "::date"
                case .json: cast = "::jsonb"
                default: cast = ""
                }
                if value.isNull {
                    bindings.appendNull()
                } else {
                    switch kind {
                    case .integer: bindings.append(Int64.fromDatabaseValue(value) ?? 0)
                    case .boolean: bindings.append((Int64.fromDatabaseValue(value) ?? 0) != 0)
                    case .blob: try bindings.append(Data.fromDatabaseValue(value) ?? Data())
                    case .text, .time, .date, .json: bindings.append(String.fromDatabaseValue(value) ?? "")
                    }
                }
                placeholders.append("$\(bindings.count)\(cast)")
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let sql = "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
            + (onConflictDoNothing ? " ON CONFLICT DO NOTHING" : "") + (returning.map { " RETURNING \($0)" } ?? "")
        let inserted = try await connection.rows(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        return returning == nil ? [] : try inserted.decode(Int64.self)
    }
}
