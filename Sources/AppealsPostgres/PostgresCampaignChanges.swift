import Appeals
import Foundation
import PostgresNIO

/// `campaign update`, `target update` and `target remove` on PostgreSQL, by the rules the SQLite store applies
/// (``CampaignUpdate/applying(_:to:)``, ``CampaignUpdate/mergeTargets(_:campaignId:existing:)``,
/// ``Target/applying(_:templates:)``, ``Target/removed(at:campaign:)``, ``LetterComposer/rewritten(_:supporters:targets:now:)``).
extension PostgresStore {
    /// Applies a campaign folder, checked as `campaign create` checks it, to the stored campaign of the same
    /// slug: its fields, templates and targets; then writes every unsent letter again. Sent letters never change.
    /// - Throws: ``AppealsError/notFound(_:)`` when no campaign has the folder's slug (a slug cannot change).
    public func updateCampaign(_ folder: CampaignFolder, now: Date = Date(), timeZone: TimeZone = .current) async throws(AppealsError) -> CampaignUpdate {
        let slug = folder.campaign.slug
        return try await transaction { connection in
            guard let found = try await PostgresDeliveryStore.records(Campaign.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("campaign")) FROM campaign WHERE slug = \(slug) FOR UPDATE
                """, on: connection, logger: logger).first else {
                throw AppealsError.notFound("no campaign \(slug): a campaign's slug cannot change; `appeal-cli campaign list` shows the campaigns (or create it with `campaign create`)")
            }
            let applied = CampaignUpdate.applying(folder.campaign, to: found)
            let stored = applied.campaign
            var update = applied.update
            let id = stored.id!
            let values = try stored.databaseDictionary
            try await connection.query("""
                UPDATE campaign SET title = \(stored.title), organization = \(stored.organization), summary = \(stored.summary),
                    demands = \(String.fromDatabaseValue(values["demands"]!))::jsonb,
                    demands_by_language = \(String.fromDatabaseValue(values["demands_by_language"]!))::jsonb,
                    languages = \(String.fromDatabaseValue(values["languages"]!))::jsonb, deadline = \(stored.deadline)::date,
                    sending_hours = \(stored.sendingHours)
                WHERE id = \(id)
                """, logger: logger)
            var old: [String: [String]] = [:]
            for (language, subject, letter) in try await connection.rows("""
                SELECT language, subject, letter FROM campaign_template WHERE campaign_id = \(id)
                """, logger: logger).decode((String, String, String).self) {
                old[language] = [subject, letter]
            }
            update.compareTemplates(old: old, new: folder.templates)
            try await connection.query("DELETE FROM campaign_template WHERE campaign_id = \(id)", logger: logger)
            for template in folder.templates {
                try await connection.query("""
                    INSERT INTO campaign_template (campaign_id, language, subject, letter)
                    VALUES (\(id), \(template.language), \(template.subjectSource), \(template.letterSource))
                    """, logger: logger)
            }
            let existing = try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(id) FOR UPDATE
                """, on: connection, logger: logger)
            let (added, changed) = try update.mergeTargets(folder, campaignId: id, existing: existing)
            for target in changed { try await updateRow(target, on: connection) }
            for target in added { _ = try await Self.insert(target, into: "target", on: connection, logger: logger) }
            // Nothing changed: the letters stay exactly as they were written (and dated).
            if !update.isEmpty {
                let composer = try LetterComposer(campaign: stored, templates: folder.templates, timeZone: timeZone)
                update.lettersRewritten = try await rewriteUnsentLetters("campaign_id", id, composer: composer, now: now, on: connection)
            }
            return update
        }
    }

    /// Changes a target's address or details, checked as a `targets.csv` row is, and writes its unsent
    /// (queued or deferred) letters again for the new values; sent letters keep their history.
    /// - Throws: ``AppealsError/invalidInput(_:)`` for a bad value, ``AppealsError/conflict(_:)`` when the new
    ///   address or embassy country belongs to another target.
    public func updateTarget(campaign slug: String, email: String, changes: TargetChanges, now: Date = Date(),
                             timeZone: TimeZone = .current) async throws(AppealsError) -> TargetUpdate {
        let composer = try await composer(for: slug, timeZone: timeZone)
        let campaignId = composer.campaign.id!
        return try await transaction { connection in
            let before = try await target(email, campaign: composer.campaign, on: connection)
            let sources = try await templateSources(composer.campaign, on: connection)
            let after = try before.applying(changes, templates: sources)
            if after.emailKey != before.emailKey, try await !connection.rows("""
                SELECT 1 FROM target WHERE campaign_id = \(campaignId) AND email_key = \(after.emailKey)
                """, logger: logger).isEmpty {
                throw AppealsError.conflict("\(after.email) is already another target of \(slug)")
            }
            if after.kind == .embassy, after.country != before.country, let other = try await connection.rows("""
                SELECT email FROM target WHERE campaign_id = \(campaignId) AND kind = 'embassy' AND country = \(after.country)
                """, logger: logger).first?.decode(String.self) {
                throw AppealsError.conflict("\(slug) already has an embassy in \(after.country!) (\(other)); a country has one embassy")
            }
            try await updateRow(after, on: connection)
            var update = TargetUpdate(before: before, after: after)
            update.beingSent = Int(try await connection.rows("""
                SELECT count(*)::bigint FROM letter WHERE target_id = \(before.id!) AND status = 'sending'
                """, logger: logger).first?.decode(Int64.self) ?? 0)
            update.rewritten = try await rewriteUnsentLetters("target_id", before.id!, composer: composer, now: now, on: connection)
            return update
        }
    }

    /// Removes a target from a campaign: its unsent letters are cancelled (even those a running `send` holds),
    /// it receives nothing more, and its letters stay for the counts.
    /// - Returns: the target, and how many letters were cancelled.
    public func removeTarget(campaign slug: String, email: String, now: Date = Date()) async throws(AppealsError) -> (Target, cancelled: Int) {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            let target = try await target(email, campaign: campaign, on: connection).removed(at: now, campaign: slug)
            let cancelled = try await connection.rows("""
                UPDATE letter SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = \(now)
                WHERE target_id = \(target.id!) AND status IN ('queued', 'deferred', 'sending') RETURNING id
                """, logger: logger).count
            try await updateRow(target, on: connection)
            return (target, cancelled)
        }
    }

    private func target(_ email: String, campaign: Campaign, on connection: PostgresConnection) async throws -> Target {
        guard let target = try await PostgresDeliveryStore.records(Target.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target
            WHERE campaign_id = \(campaign.id!) AND email_key = \(EmailAddress.key(email)) FOR UPDATE
            """, on: connection, logger: logger).first else { throw Target.notFound(email, campaign: campaign.slug) }
        return target
    }

    /// Writes every field of a stored target.
    private func updateRow(_ target: Target, on connection: PostgresConnection) async throws {
        let salutations = try String.fromDatabaseValue(target.databaseDictionary["salutations"]!)
        try await connection.query("""
            UPDATE target SET kind = \(target.kind.rawValue), name = \(target.name), title = \(target.title), salutation = \(target.salutation),
                email = \(target.email), email_key = \(target.emailKey), country = \(target.country), language = \(target.language),
                postal_address = \(target.postalAddress), fax = \(target.fax), timezone = \(target.timezone), disabled = \(target.disabled),
                disabled_reason = \(target.disabledReason), removed_at = \(target.removedAt), salutations = \(salutations)::jsonb
            WHERE id = \(target.id!)
            """, logger: logger)
    }

    /// Writes again the queued and deferred letters of a campaign or target (`column` is `campaign_id` or
    /// `target_id`), keeping each letter's Message-ID.
    /// - Returns: how many letters were written again.
    private func rewriteUnsentLetters(_ column: String, _ id: Int64, composer: LetterComposer, now: Date,
                                      on connection: PostgresConnection) async throws -> Int {
        let letters = try await PostgresDeliveryStore.records(Letter.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("letter")) FROM letter
            WHERE \(unescaped: column) = \(id) AND status IN ('queued', 'deferred') FOR UPDATE
            """, on: connection, logger: logger)
        if letters.isEmpty { return 0 }
        let supporters = try await PostgresDeliveryStore.records(Supporter.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter WHERE id = ANY(\(Array(Set(letters.map(\.supporterId)))))
            """, on: connection, logger: logger).keyed { $0.id! }
        let targets = try await PostgresDeliveryStore.records(Target.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE id = ANY(\(Array(Set(letters.map(\.targetId)))))
            """, on: connection, logger: logger).keyed { $0.id! }
        let rewritten = composer.rewritten(letters, supporters: supporters, targets: targets, now: now)
        let ids = rewritten.map(\.id), texts = rewritten.map(\.letter)
        try await connection.query("""
            UPDATE letter_text SET subject = v.subject, body = v.body
            FROM unnest(\(ids)::bigint[], \(texts.map(\.subject))::text[], \(texts.map(\.body))::text[]) AS v(id, subject, body)
            WHERE letter_text.letter_id = v.id
            """, logger: logger)
        try await connection.query("""
            UPDATE letter SET language = v.language, updated_at = \(now)
            FROM unnest(\(ids)::bigint[], \(texts.map(\.language))::text[]) AS v(id, language) WHERE letter.id = v.id
            """, logger: logger)
        return rewritten.count
    }
}
