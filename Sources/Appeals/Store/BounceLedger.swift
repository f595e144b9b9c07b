import Foundation

/// What ingesting one bounce reads and writes, within one transaction of whichever store keeps the campaign:
/// the questions ``BounceMatcher`` asks and the records the ingest makes. The rules live in the matcher and in
/// ``BounceLedgerIngest``; a ledger only answers and writes.
public protocol BounceLedger {
    /// What storing the same message did the first time, if it was stored before.
    func earlierIngest(of sha256: Data) throws -> BounceIngestResult?
    func campaign(ofTarget id: Int64) throws -> Int64?
    func letter(_ lookup: BounceLetter.Lookup) throws -> BounceLetter?
    /// Marks a `sent` letter bounced. - Returns: whether it was `sent`.
    func markBounced(letterId: Int64, code: Int?, reply: String, at now: Date) throws -> Bool
    /// - Returns: whether the target was enabled (and not removed) and is now disabled.
    func disable(targetId: Int64, reason: String) throws -> Bool
    /// The days (UTC) on which counted temporary failures were reported for a target since `since`, and the first.
    func transientFailureDays(targetId: Int64, since: Date) throws -> (days: Int, first: Date?)
    /// - Returns: the stored message's id.
    func store(_ message: StoredBounceMessage) throws -> Int64
    func store(_ report: StoredBounceReport) throws
    func setOutcome(_ outcome: String, messageId: Int64) throws
}

/// A letter as a bounce is checked against.
public struct BounceLetter: Sendable {
    public enum Lookup: Sendable {
        case id(Int64)
        case messageId(String)
        /// The last letter sent (or bounced) to one of these address keys since the date.
        case sentTo(keys: [String], since: Date)
    }

    public var id: Int64, campaignId: Int64, targetId: Int64, status: String, messageId: String
    public var targetEmail: String, targetName: String, targetDisabled: Bool, supporterEmail: String?

    public init(id: Int64, campaignId: Int64, targetId: Int64, status: String, messageId: String, targetEmail: String, targetName: String,
                targetDisabled: Bool, supporterEmail: String?) {
        (self.id, self.campaignId, self.targetId, self.status, self.messageId) = (id, campaignId, targetId, status, messageId)
        (self.targetEmail, self.targetName, self.targetDisabled, self.supporterEmail) = (targetEmail, targetName, targetDisabled, supporterEmail)
    }

    func isTarget(_ report: RecipientReport) -> Bool {
        [report.recipient, report.finalRecipient].contains { $0.map(EmailAddress.key) == EmailAddress.key(targetEmail) }
    }

    func isSupporter(_ report: RecipientReport) -> Bool {
        guard let supporterEmail else { return false }
        return [report.recipient, report.finalRecipient].contains { $0.map(EmailAddress.key) == EmailAddress.key(supporterEmail) }
    }
}

/// A received message's row.
public struct StoredBounceMessage: Sendable {
    public var sha256: Data
    public var receivedAt: Date
    public var source: String
    public var size: Int
    public var sender: String?
    public var subject: String?
    public var format: String
    public var bounceClass: String
    public var verp: String
    public var campaignId: Int64?
    public var outcome: String
    public var problem: String?
    /// The message itself, kept when it matched no letter.
    public var raw: Data?
}

/// One recipient's report of a message.
public struct StoredBounceReport: Sendable {
    public var messageId: Int64
    public var receivedAt: Date
    public var letterId: Int64?
    public var targetId: Int64?
    public var matchedBy: String?
    public var recipient: String
    public var action: String?
    public var status: String?
    public var diagnostic: String?
    public var bounceClass: String
    public var counted: Bool
    public var effect: String
}

/// Ingesting one message, whichever store: parsed outside the transaction, stored and acted on inside it.
public enum BounceLedgerIngest {
    /// A message read (its analysis and problem), before the transaction.
    public struct Reading: Sendable {
        let problem: String?
        let analysis: BounceAnalysis?

        public init(_ message: InboundMessage) {
            let parsed = message.problem == nil ? ReceivedMessage(parsing: message.bytes) : nil
            problem = message.problem ?? (parsed?.looksLikeMail == false ? "no header fields: not a mail message" : nil)
            analysis = problem == nil ? parsed.map(BounceParser.analyze) : nil
        }
    }

    /// Stores the message (once, by its SHA-256), matches its reports to letters (VERP token, then the returned
    /// Message-ID, then the failed address), and moves the letters and targets on as ``BounceClass`` says, all
    /// within the ledger's transaction.
    public static func run(_ message: InboundMessage, reading: Reading, policy: BouncePolicy, now: Date,
                           ledger: some BounceLedger) throws -> BounceIngestResult {
        // Checked again in the transaction: another run may have stored it meanwhile.
        if let earlier = try ledger.earlierIngest(of: message.sha256) { return earlier }
        let matcher = BounceMatcher(ledger: ledger, policy: policy, now: now)
        let analysis = reading.analysis
        let verdict = try analysis.map { try matcher.judge($0, envelopeRecipient: message.envelopeRecipient) }
            ?? BounceMatcher.Verdict(verp: "none", campaignId: nil, reports: [], outcome: "not read: kept")
        let bounceClass = analysis?.overallClass ?? .unrecognized
        // Kept when it matched no letter (forged ones included), for the organizer to look at.
        let messageId = try ledger.store(StoredBounceMessage(
            sha256: message.sha256, receivedAt: now, source: message.source, size: message.size, sender: analysis?.from.map { String($0.prefix(300)) },
            subject: analysis?.subject.map { String($0.prefix(300)) }, format: analysis?.format.rawValue ?? "none", bounceClass: bounceClass.rawValue,
            verp: verdict.verp, campaignId: verdict.campaignId, outcome: verdict.outcome, problem: reading.problem,
            raw: verdict.matchedLetter ? nil : Data(message.bytes.prefix(InboundMessage.maxKeptBytes))))
        var outcome = verdict.outcome
        for report in verdict.reports {
            try ledger.store(StoredBounceReport(
                messageId: messageId, receivedAt: now, letterId: report.letterId, targetId: report.targetId, matchedBy: report.matchedBy,
                recipient: report.report.recipient, action: report.report.action, status: report.report.status,
                diagnostic: report.report.diagnostic, bounceClass: report.report.bounceClass.rawValue, counted: report.counted, effect: report.effect))
            if report.counted && report.report.bounceClass == .transient, let targetId = report.targetId,
               let disabled = try matcher.disableAfterRepeatedTransientFailures(targetId: targetId) {
                outcome += "; " + disabled
                try ledger.setOutcome(outcome, messageId: messageId)
            }
        }
        return BounceIngestResult(isNew: true, bounceClass: bounceClass, outcome: outcome, problem: reading.problem,
                                  actedOn: verdict.reports.contains { $0.counted })
    }

    /// The answer for a message stored before.
    public static func earlier(bounceClass: String, outcome: String, problem: String?) -> BounceIngestResult {
        BounceIngestResult(isNew: false, bounceClass: BounceClass(rawValue: bounceClass) ?? .unrecognized,
                           outcome: "already ingested, nothing changed now (the first time: \(outcome))", problem: problem, actedOn: false)
    }
}
