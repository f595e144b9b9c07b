import Appeals
import AsyncAlgorithms
import Foundation
import GRDB
import PostgresNIO
import Synchronization

/// Setting a campaign up on PostgreSQL: creating it from its folder, importing targets and supporters, and
/// queueing its letters, by the rules the SQLite store applies too (``Target/importing(_:into:templates:existing:skipInvalid:)``,
/// ``SupporterImport``, ``QueuePlan``); the database's constraints decide what is a duplicate.
extension PostgresStore {
    /// Gives the database the keys the file gets when it is made (`init`): `web` for the web server's links and
    /// forms, `verp` for the return paths of letters; keys it has are kept.
    public func makeKeys() async throws(AppealsError) {
        try await transaction { connection in
            for name in ["web", "verp"] {
                try await connection.query("INSERT INTO secret_key (name, value) VALUES (\(name), \(SecretKey.random())) ON CONFLICT (name) DO NOTHING",
                                           logger: logger)
            }
        }
    }

    /// Stores a checked campaign folder: the campaign, its templates and its targets, in one transaction.
    /// - Throws: ``AppealsError/conflict(_:)`` when a campaign with the same slug exists.
    public func createCampaign(_ folder: CampaignFolder) async throws(AppealsError) -> Campaign {
        try await transaction { connection in
            var campaign = folder.campaign
            // Two creations of one slug at once: the second waits, then finds it.
            try await connection.query("SELECT pg_advisory_xact_lock(4242006, hashtext(\(campaign.slug)))", logger: logger)
            let existing = try await connection.rows("SELECT 1 FROM campaign WHERE slug = \(campaign.slug)", logger: logger)
            if !existing.isEmpty { throw AppealsError.conflict("campaign \(campaign.slug) already exists") }
            campaign.id = try await Self.insert(campaign, into: "campaign", on: connection, logger: logger)
            for template in folder.templates {
                try await connection.query("""
                    INSERT INTO campaign_template (campaign_id, language, subject, letter)
                    VALUES (\(campaign.id!), \(template.language), \(template.subjectSource), \(template.letterSource))
                    """, logger: logger)
            }
            for target in folder.parsedTargets(campaignId: campaign.id!) {
                _ = try await Self.insert(target, into: "target", on: connection, logger: logger)
            }
            return campaign
        }
    }

    /// Adds targets to a campaign from a `targets.csv` table, all or nothing unless `skipInvalid`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every bad line; nothing is stored.
    public func importTargets(_ table: CSVTable, campaign slug: String, skipInvalid: Bool = false) async throws(AppealsError) -> ImportReport {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            try await Self.takeImportTurn(campaign, on: connection, logger: logger)
            let existing = try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaign.id!) FOR UPDATE
                """, on: connection, logger: logger)
            let (targets, report) = try Target.importing(table, into: campaign, templates: try await templateSources(campaign, on: connection),
                                                         existing: existing, skipInvalid: skipInvalid)
            for target in targets { _ = try await Self.insert(target, into: "target", on: connection, logger: logger) }
            return report
        }
    }

    /// Imports into one campaign take turns (rows of one address in two files, in different orders, would make
    /// two imports at once deadlock), for the whole transaction. The rest of a file is still read after a bad row,
    /// to list every bad line, with the transaction open: the server's 20-second limit on idle transactions is
    /// lifted for it.
    static func takeImportTurn(_ campaign: Campaign, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
        try await connection.query("SELECT pg_advisory_xact_lock(4242007, \(Int32(truncatingIfNeeded: campaign.id!)))", logger: logger)
    }

    /// Rows per INSERT of supporters: nine values each.
    static let supporterBatch = 2000

    /// Adds supporters to a campaign, all or nothing unless `skipInvalid`, reading the file on a thread of its
    /// own as the rows are written (in batches, in one transaction a bad row rolls back): memory stays flat with
    /// the file's size.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing the bad lines; nothing is stored.
    public func importSupporters(_ source: some CSVRowSource & Sendable, campaign slug: String, skipInvalid: Bool = false,
                                 now: Date = Date()) async throws(AppealsError) -> ImportReport {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            try await Self.takeImportTurn(campaign, on: connection, logger: logger)
            let rules = Mutex(try SupporterImport(file: source.file, campaign: campaign, skipInvalid: skipInvalid, now: now))
            try await ThreadExecutor.run(name: "appeal-import-read") { () throws(AppealsError) in
                var batch: [SupporterImport.Row] = []
                let write = { (rows: [SupporterImport.Row]) throws(AppealsError) in
                    let added = try self.blocking { () async throws(AppealsError) in
                        try await self.insertSupporters(rows, campaign: campaign, on: connection)
                    }
                    rules.withLock { rules in for (row, added) in zip(rows, added) { rules.stored(row, added: added) } }
                }
                do {
                    try source.forEachItem { item in
                        guard let row = rules.withLock({ $0.take(item) }) else { return }
                        batch.append(row)
                        if batch.count == Self.supporterBatch {
                            try write(batch)
                            batch.removeAll(keepingCapacity: true)
                        }
                    }
                } catch {
                    throw error as? AppealsError ?? .storage("\(source.file): \(error)")
                }
                if !batch.isEmpty { try write(batch) }
            }
            return try rules.withLock { $0 }.finish()
        }
    }

    /// Inserts supporters in one statement, skipping addresses the campaign has (or that come earlier in `rows`).
    /// - Returns: for each row, whether it was added.
    private func insertSupporters(_ rows: [SupporterImport.Row], campaign: Campaign, on connection: PostgresConnection) async throws(AppealsError) -> [Bool] {
        let supporters = rows.map(\.supporter)
        do {
            var added = Set<String>()
            for key in try await connection.rows("""
                INSERT INTO supporter (campaign_id, name, email, email_key, country, city, language, consent, personal_note, created_at)
                SELECT \(campaign.id!), name, email, email_key, country, city, language, consent, personal_note, created_at
                FROM unnest(\(supporters.map(\.name))::text[], \(NullableArray(supporters.map(\.email)))::text[],
                            \(NullableArray(supporters.map(\.emailKey)))::text[], \(NullableArray(supporters.map(\.country)))::text[],
                            \(NullableArray(supporters.map(\.city)))::text[], \(NullableArray(supporters.map(\.language)))::text[],
                            \(NullableArray(supporters.map(\.consent)))::boolean[], \(NullableArray(supporters.map(\.personalNote)))::text[],
                            \(supporters.map(\.createdAt))::timestamptz[])
                    WITH ORDINALITY AS v(name, email, email_key, country, city, language, consent, personal_note, created_at, n)
                ORDER BY n
                ON CONFLICT (campaign_id, email_key) DO NOTHING RETURNING email_key
                """, logger: logger).decode(String.self) {
                added.insert(key)
            }
            // The first row of an address is the one added.
            return supporters.map { added.remove($0.emailKey!) != nil }
        } catch {
            throw Self.appealsError(error, location)
        }
    }

    /// Adds one supporter given on the command line, checked like a CSV row.
    public func addSupporter(_ values: [String: String], campaign slug: String, now: Date = Date()) async throws(AppealsError) -> ImportReport {
        try await importSupporters(SupporterImport.added(values), campaign: slug, now: now)
    }

    /// The campaign's stored subject and letter templates, each pair as one text, to look for a variable in.
    func templateSources(_ campaign: Campaign, on connection: PostgresConnection) async throws -> [String] {
        try await connection.rows("SELECT subject || letter FROM campaign_template WHERE campaign_id = \(campaign.id!)", logger: logger).decode(String.self)
    }

    /// The campaign's letter renderer, from its stored templates.
    /// - Parameter cache: keeps the parsed templates between calls; they are read each time and parsed again
    ///   only when they or the campaign changed.
    public func composer(for slug: String, timeZone: TimeZone = .current, cache: ComposerCache? = nil) async throws(AppealsError) -> LetterComposer {
        let (campaign, sources) = try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            let sources = try await connection.rows("""
                SELECT language, subject, letter FROM campaign_template WHERE campaign_id = \(campaign.id!) ORDER BY language
                """, logger: logger).map { row in
                let (language, subject, letter) = try row.decode((String, String, String).self)
                return [language, subject, letter]
            }
            return (campaign, sources)
        }
        if let composer = cache?.composer(campaign: campaign, sources: sources, timeZone: timeZone) { return composer }
        let composer = try LetterComposer(campaign: campaign, storedTemplates: sources, timeZone: timeZone)
        cache?.keep(composer, sources: sources, timeZone: timeZone)
        return composer
    }

    /// A supporter's letters, one per target by the targeting rule: the stored letter where one is queued,
    /// else rendered now.
    /// - Throws: ``AppealsError/notFound(_:)`` when no supporter of the campaign has that email.
    public func previewLetters(campaign slug: String, supporterEmail email: String, now: Date = Date(),
                               timeZone: TimeZone = .current) async throws(AppealsError) -> (Supporter, [LetterPreview]) {
        let composer = try await composer(for: slug, timeZone: timeZone)
        let campaignId = composer.campaign.id!
        let (supporter, targets, stored) = try await transaction { connection in
            let found = try await PostgresDeliveryStore.records(Supporter.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter
                WHERE campaign_id = \(campaignId) AND email_key = \(EmailAddress.key(email))
                """, on: connection, logger: logger)
            guard let supporter = found.first else { throw AppealsError.notFound("\(email) is not a supporter of \(slug)") }
            let targets = try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaignId) ORDER BY id
                """, on: connection, logger: logger)
            let letters = try await PostgresDeliveryStore.records(Letter.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("letter")) FROM letter WHERE supporter_id = \(supporter.id!) ORDER BY id
                """, on: connection, logger: logger)
            let texts = try await PostgresDeliveryStore.records(LetterText.self, """
                SELECT letter_id, subject, body FROM letter_text WHERE letter_id = ANY(\(letters.map { $0.id! }))
                """, on: connection, logger: logger).keyed(by: \.letterId)
            return (supporter, targets, letters.compactMap { letter in texts[letter.id!].map { (letter, $0) } })
        }
        return (supporter, LetterPreview.previews(of: supporter, targets: targets, stored: stored, composer: composer, now: now))
    }
}

extension PostgresStore {
    /// Renders and queues every missing letter of a campaign; running it again adds nothing.
    ///
    /// Supporters are read and written in batches of about `batchLetters` letters, each batch one transaction
    /// (a `queue` stopped midway leaves whole letters only), each written while the next one renders. Queue runs
    /// of one campaign take turns (`waiting` is called when this one waits for another); the database's unique
    /// constraints are what keeps a letter from being queued twice.
    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign is not `active` or `paused`.
    public func queueLetters(campaign slug: String, messageIDs: MessageIDGenerator, now: Date = Date(), timeZone: TimeZone = .current,
                             batchLetters: Int = 2500, waiting: @escaping @Sendable () -> Void = {}) async throws(AppealsError) -> QueueReport {
        let campaign = try await self.campaign(slug)
        do {
            return try await leased { turn in
                // The turn is a session lock on a connection of its own, given back when the run ends however it ends.
                // That connection is idle for the whole run, and exempt from a server's idle_session_timeout (as
                // every connection of the store is).
                let free = try await turn.rows("SELECT pg_try_advisory_lock(4242003, \(Int32(truncatingIfNeeded: campaign.id!)))", logger: logger).first?.decode(Bool.self) ?? false
                if !free {
                    waiting()
                    try await turn.query("SELECT pg_advisory_lock(4242003, \(Int32(truncatingIfNeeded: campaign.id!)))", logger: logger)
                }
                let result: Result<QueueReport, AppealsError>
                do throws(AppealsError) {
                    result = .success(try await queue(slug, messageIDs: messageIDs, now: now, timeZone: timeZone, batchLetters: batchLetters))
                } catch {
                    result = .failure(error)
                }
                // Given back before the connection goes back to the pool (a broken connection takes it with it).
                try await turn.query("SELECT pg_advisory_unlock(4242003, \(Int32(truncatingIfNeeded: campaign.id!)))", logger: logger)
                // Many new letters: fresh statistics for the senders' and reports' queries now, not when autovacuum
                // gets to it (up to a minute later).
                if case .success(let report) = result, report.queued >= 10_000 {
                    try await turn.query("ANALYZE letter, letter_text", logger: logger)
                }
                return try result.get()
            }
        } catch {
            throw Self.appealsError(error, location)
        }
    }

    private func queue(_ slug: String, messageIDs: MessageIDGenerator, now: Date, timeZone: TimeZone,
                       batchLetters: Int) async throws(AppealsError) -> QueueReport {
        let composer = try await composer(for: slug, timeZone: timeZone)
        let campaignId = composer.campaign.id!
        let targets = try await transaction { connection in
            try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaignId)
                """, on: connection, logger: logger)
        }
        let plan = try QueuePlan(composer: composer, targets: targets, now: now)
        let batchSize = plan.batchSize(letters: batchLetters)
        let batches = AsyncThrowingChannel<(letters: [(Letter, RenderedLetter)], report: QueueReport), any Error>()
        // Read and render → write: each batch is written while the next one renders.
        do {
            return try await withThrowingTaskGroup(of: QueueReport?.self) { group in
                group.addTask {
                    var report = QueueReport()
                    var lastId: Int64 = 0
                    do {
                        while !Task.isCancelled {
                            let (supporters, existing) = try await self.supporters(of: campaignId, after: lastId, limit: batchSize)
                            guard let last = supporters.last else { break }
                            lastId = last.id!
                            let letters = await plan.letters(for: supporters, skipping: existing, messageIDs: messageIDs, now: now, counting: &report)
                            await batches.send((letters, report))
                        }
                        batches.finish()
                    } catch {
                        batches.fail(error)
                    }
                    return nil
                }
                group.addTask {
                    var added = 0, attempted = 0
                    var report = QueueReport()
                    for try await batch in batches {
                        report = batch.report
                        guard !batch.letters.isEmpty else { continue }
                        added += try await self.insertLetters(batch.letters)
                        attempted += batch.letters.count
                    }
                    return report.counted(added: added, attempted: attempted)
                }
                var result = QueueReport()
                for try await report in group { if let report { result = report } }
                return result
            }
        } catch {
            throw Self.appealsError(error, location)
        }
    }

    /// The next supporters of a campaign (not erased) in the order they came, and the `[supporter, target]`
    /// pairs that already have a letter.
    private func supporters(of campaignId: Int64, after lastId: Int64, limit: Int) async throws(AppealsError) -> ([Supporter], Set<[Int64]>) {
        try await transaction { connection in
            let supporters = try await PostgresDeliveryStore.records(Supporter.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter
                WHERE campaign_id = \(campaignId) AND id > \(lastId) AND erased_at IS NULL ORDER BY id LIMIT \(limit)
                """, on: connection, logger: logger)
            var existing = Set<[Int64]>()
            if let first = supporters.first?.id, let last = supporters.last?.id {
                for (supporter, target) in try await connection.rows("""
                    SELECT supporter_id, target_id FROM letter WHERE supporter_id BETWEEN \(first) AND \(last)
                    """, logger: logger).decode((Int64, Int64).self) {
                    existing.insert([supporter, target])
                }
            }
            return (supporters, existing)
        }
    }

    /// Inserts rendered letters and their texts in one transaction; another `queue` may have raced us to some
    /// pairs: the unique constraints decide.
    /// - Returns: how many letters were added.
    private func insertLetters(_ letters: [(Letter, RenderedLetter)]) async throws(AppealsError) -> Int {
        try await transaction { connection in try await insertLetters(letters, on: connection) }
    }

    /// Inserts rendered letters and their texts within the caller's transaction, skipping pairs already there.
    /// - Returns: how many letters were added.
    func insertLetters(_ letters: [(Letter, RenderedLetter)], on connection: PostgresConnection) async throws -> Int {
        let rows = letters.map(\.0), texts = letters.map(\.1)
        return try await connection.rows("""
                WITH new AS (
                    INSERT INTO letter (campaign_id, supporter_id, target_id, language, message_id, status, attempts, queued_at, due_at,
                                        updated_at, possible_duplicate)
                    SELECT campaign_id, supporter_id, target_id, language, message_id, 'queued', 0, queued_at, due_at, updated_at, false
                    FROM unnest(\(rows.map(\.campaignId))::bigint[], \(rows.map(\.supporterId))::bigint[], \(rows.map(\.targetId))::bigint[],
                                \(rows.map(\.language))::text[], \(rows.map(\.messageId))::text[], \(rows.map(\.queuedAt))::timestamptz[],
                                \(rows.map(\.dueAt))::timestamptz[], \(rows.map(\.updatedAt))::timestamptz[])
                        AS v(campaign_id, supporter_id, target_id, language, message_id, queued_at, due_at, updated_at)
                    ON CONFLICT DO NOTHING RETURNING id, message_id),
                texts AS (
                    INSERT INTO letter_text (letter_id, subject, body)
                    SELECT new.id, t.subject, t.body
                    FROM new JOIN unnest(\(rows.map(\.messageId))::text[], \(texts.map(\.subject))::text[], \(texts.map(\.body))::text[])
                        AS t(message_id, subject, body) USING (message_id)
                    RETURNING 1)
                SELECT count(*)::bigint FROM texts
                """, logger: logger).first.map { Int(try $0.decode(Int64.self)) } ?? 0
    }

    /// A campaign by its slug.
    /// - Throws: ``AppealsError/notFound(_:)`` naming it.
    public func campaign(_ slug: String) async throws(AppealsError) -> Campaign {
        try await transaction { connection in try await Self.campaign(slug, on: connection, logger: logger, location: location) }
    }

    /// Inserts a domain record by its GRDB encoding, in `table`'s columns as ``DatabaseCopy`` knows them; a nil
    /// id is left to the table's identity.
    /// - Returns: the row's id.
    static func insert(_ record: some EncodableRecord, into table: String, onConflictDoNothing: Bool = false, on connection: PostgresConnection,
                       logger: Logger) async throws -> Int64? {
        let values = try record.databaseDictionary
        let columns = DatabaseCopy.tables.first { $0.name == table }!.columns.filter { name, _ in
            guard let value = values[name] else { return false }
            return !(name == "id" && value.isNull)
        }
        let rows = try await DatabaseCopy.insert([columns.map { values[$0.0]! }], into: table, columns: columns, onConflictDoNothing: onConflictDoNothing,
                                                 returning: "id", connection: connection, logger: logger)
        return rows.first
    }
}

/// An array whose elements may be NULL, bound as one parameter: postgres-nio binds arrays of present values only.
struct NullableArray<Element: PostgresArrayEncodable>: PostgresEncodable {
    var elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        // PostgreSQL's binary array: dimensions, whether any element is NULL, the element type; then the length
        // and lower bound of the one dimension, and each element as its length (-1 for NULL) and bytes.
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            try element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
    }
}
