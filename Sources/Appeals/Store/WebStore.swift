import Foundation

/// What the web server (`serve`) asks of its store: campaigns and their letters' composer, submissions and
/// their confirmation, the dashboard's figures, the outbox of confirmation emails and the key of its links.
/// The SQLite file and PostgreSQL each provide it, by the same rules (``Campaign/takesSubmissions(status:deadline:at:)``,
/// ``ConfirmationPlan/answer(for:campaign:now:)``, ``Submission/confirmed(supporterId:)``); several `serve`
/// processes sharing one PostgreSQL database answer as one would.
public protocol WebStore: Sendable {
    func campaigns() async throws(AppealsError) -> [Campaign]
    /// - Throws: ``AppealsError/notFound(_:)`` naming the slug.
    func campaign(_ slug: String) async throws(AppealsError) -> Campaign
    func targets(ofCampaign slug: String) async throws(AppealsError) -> [Target]
    /// The campaign's letter renderer, kept in `cache` while its templates and fields do not change.
    func composer(for slug: String, cache: ComposerCache) async throws(AppealsError) -> LetterComposer
    func report(campaign slug: String) async throws(AppealsError) -> CampaignReport
    /// - Parameter hours: how many hours back the chart goes.
    func activity(campaign slug: String, now: Date, hours: Int) async throws(AppealsError) -> CampaignActivity
    func setStatus(_ status: CampaignStatus, ofCampaign slug: String) async throws(AppealsError) -> Campaign
    /// The campaign's letters as `export` writes them, whole.
    func exportText(campaign slug: String, spreadsheetSafe: Bool) async throws(AppealsError) -> String

    /// Stores a submission and its confirmation email.
    /// - Parameter perEmailPerHour: at most this many submissions for one address in an hour, whoever sends them
    ///   and through whichever server, so that nobody can flood a stranger's mailbox.
    /// - Returns: `false` when that limit is reached (nothing is stored).
    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign takes no submissions.
    func storeSubmission(_ submission: Submission, email: OutboxMessage, perEmailPerHour: Int, now: Date) async throws(AppealsError) -> Bool
    /// The pending submission behind a confirmation link, with its campaign; `nil` for an unknown link.
    func submission(tokenHash: Data) async throws(AppealsError) -> (Submission, Campaign)?
    /// What confirming a link needs, read before its write; `nil` for an unknown link.
    func confirmationPlan(tokenHash: Data, now: Date, composers: ComposerCache) async throws(AppealsError) -> (Submission, Campaign, ConfirmationPlan)?
    /// Confirms a submission: creates the supporter (unless the address already took part) and queues their
    /// letters, in one transaction. Confirming the same link again, at the same time or later, creates nothing.
    func confirmSubmission(tokenHash: Data, composer: LetterComposer, messageIDs: MessageIDGenerator, now: Date) async throws(AppealsError) -> Confirmation
    /// "It wasn't me": forgets a submission not yet confirmed. - Returns: whether there was one.
    func withdrawSubmission(tokenHash: Data) async throws(AppealsError) -> Bool
    /// The letters of the supporter a confirmed link created or found; `nil` when the link is unknown or not confirmed.
    func supporterLetters(tokenHash: Data) async throws(AppealsError) -> SupporterLetters?
    /// Forgets unconfirmed submissions a week after their link expired. - Returns: how many.
    func purgeExpiredSubmissions(now: Date) async throws(AppealsError) -> Int

    /// The key of the web server's links and forms: the same for every server sharing the store.
    func webKey() async throws(AppealsError) -> Data
    /// Confirmation emails whose time has come, oldest first, taken by this process: another sharing the store
    /// does not get them for ``outboxHoldSeconds`` (unless this one gives them back with ``deferOutbox(_:until:)``).
    func takeDueOutbox(now: Date, limit: Int) async throws(AppealsError) -> [OutboxMessage]
    /// The transport took these emails (or refused them for good): they leave the outbox.
    func removeFromOutbox(_ ids: [Int64]) async throws(AppealsError)
    /// The email could not be handed over now: tried again at `due`.
    func deferOutbox(_ id: Int64, until due: Date) async throws(AppealsError)
}

/// How long a process holds the confirmation emails it took: one that dies with some leaves them to the
/// others after this.
public let outboxHoldSeconds: TimeInterval = 600

extension Campaign {
    /// Whether a campaign takes submissions on its page at `now`: active, and its deadline not passed.
    public static func takesSubmissions(status: CampaignStatus?, deadline: String?, at now: Date) -> Bool {
        status == .active && !Campaign.deadlinePassed(deadline, at: now)
    }

    public func takesSubmissions(at now: Date) -> Bool { Self.takesSubmissions(status: status, deadline: deadline, at: now) }

    /// Whether a confirmation may still queue letters: for active and paused campaigns, until the deadline.
    public static func takesConfirmations(status: CampaignStatus?, deadline: String?, at now: Date) -> Bool {
        status?.acceptsLetters == true && !Campaign.deadlinePassed(deadline, at: now)
    }
}

extension ConfirmationPlan {
    /// The answer to a link that needs no write (used, expired, or its campaign closed); `nil` when it is to be
    /// confirmed.
    public static func answer(for submission: Submission, campaign: Campaign, now: Date) -> Confirmation? {
        if submission.confirmedAt != nil { return .alreadyConfirmed }
        if submission.expiresAt <= now { return .expired }
        if !Campaign.takesConfirmations(status: campaign.status, deadline: campaign.deadline, at: now) { return .campaignClosed }
        return nil
    }
}

extension Submission {
    /// The submission once confirmed for `supporterId`: the supporter holds the data now, and the request keeps
    /// only what its link and the limits need.
    public func confirmed(supporterId: Int64, at now: Date) -> Submission {
        var submission = self
        submission.confirmedAt = now
        submission.supporterId = supporterId
        submission.name = ""
        submission.email = ""
        submission.city = nil
        submission.personalNote = nil
        return submission
    }
}

extension LetterComposer {
    /// The letters a new supporter writes to `targets` by the targeting rule, rendered now, each with its Message-ID.
    public func letters(for supporter: Supporter, targets: [Target], messageIDs: MessageIDGenerator, now: Date) -> [(Letter, RenderedLetter)] {
        Targeting(targets).targets(for: supporter).map { target in
            let rendered = compose(supporter: supporter, target: target, now: now)
            return (Letter.queued(supporter: supporter, target: target, language: rendered.language, messageId: messageIDs.next(), at: now), rendered)
        }
    }
}

extension CampaignActivity {
    /// The first hour of a chart of `hours` hours ending with the hour of `now`.
    public static func firstHour(now: Date, hours: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.dateInterval(of: .hour, for: now)!.start.addingTimeInterval(-3600 * Double(hours - 1))
    }

    /// Letters sent in each hour from `first`, an hour with none counted as 0.
    public static func series(_ counts: [Date: Int], from first: Date, hours: Int) -> [(hour: Date, count: Int)] {
        (0..<hours).map { offset in
            let hour = first.addingTimeInterval(3600 * Double(offset))
            return (hour: hour, count: counts[hour] ?? 0)
        }
    }
}
