import Foundation

/// Matches a bounce's reports to letters and acts on them, inside the ingest's transaction.
///
/// Trust: with VERP, a report acts only when the message carries a valid token for the letter and reports on
/// that letter's target (and, when it returns the original headers, on that letter's Message-ID). Without
/// VERP configured, a match by Message-ID or by address acts, as nothing better can be had.
struct BounceMatcher<Ledger: BounceLedger> {
    struct MatchedReport {
        var report: RecipientReport
        var letterId: Int64?
        var targetId: Int64?
        var matchedBy: String?
        /// Verified and about the target's own address: counted toward the target.
        var counted: Bool
        var effect: String
    }

    struct Verdict {
        var verp: String
        var campaignId: Int64?
        var reports: [MatchedReport]
        var outcome: String
        /// The message is about one of our letters (trusted or not): not kept.
        var matchedLetter = false
    }

    let ledger: Ledger
    let policy: BouncePolicy
    let now: Date

    init(ledger: Ledger, policy: BouncePolicy, now: Date) {
        self.ledger = ledger
        self.policy = policy
        self.now = now
    }

    func judge(_ analysis: BounceAnalysis, envelopeRecipient: String?) throws -> Verdict {
        let reports = analysis.reports.filter { !policy.isOwn($0.recipient) }
        switch returnPathToken(analysis, envelopeRecipient: envelopeRecipient) {
        case .forged(let text)?:
            return Verdict(verp: "forged", campaignId: nil, reports: reports.map { unmatched($0, "forged return path: changed nothing") },
                           outcome: "return path token \(text.prefix(40)) is not one of ours: changed nothing")
        case .test(let targetId)?:
            let campaignId = try ledger.campaign(ofTarget: targetId)
            return Verdict(verp: "test", campaignId: campaignId, reports: reports.map { unmatched($0, "a --test-to sample: changed nothing") },
                           outcome: "bounce of a --test-to sample (\(analysis.overallClass.rawValue)): changed nothing")
        case .letter(let id)?:
            guard let letter = try ledger.letter(.id(id)) else {
                return Verdict(verp: "forged", campaignId: nil, reports: reports.map { unmatched($0, "no such letter: changed nothing") },
                               outcome: "return path names letter \(id), which does not exist: changed nothing")
            }
            if let returned = analysis.originalMessageID, returned != letter.messageId {
                return Verdict(verp: "letter", campaignId: letter.campaignId,
                               reports: reports.map { unmatched($0, "returns \(returned), not letter \(id): changed nothing") },
                               outcome: "return path names letter \(id), but the bounce returns another message (\(returned)): changed nothing")
            }
            return try verdict(analysis, reports: reports, letter: letter, matchedBy: "verp", verified: true, verp: "letter")
        case nil:
            let verified = policy.returnPath == nil
            if let returned = analysis.originalMessageID, let letter = try ledger.letter(.messageId(returned)) {
                return try verdict(analysis, reports: reports, letter: letter, matchedBy: "message-id", verified: verified, verp: "none")
            }
            return try byRecipient(analysis, reports: reports, verified: verified)
        }
    }

    private func verdict(_ analysis: BounceAnalysis, reports: [RecipientReport], letter: BounceLetter, matchedBy: String, verified: Bool,
                         verp: String) throws -> Verdict {
        var matched: [MatchedReport] = []
        for report in reports {
            if letter.isTarget(report) {
                matched.append(try act(report, letter: letter, matchedBy: matchedBy, verified: verified))
            } else if letter.isSupporter(report) {
                matched.append(MatchedReport(report: report, letterId: letter.id, targetId: nil, matchedBy: matchedBy, counted: false,
                                             effect: "the supporter's copy of letter \(letter.id): changed nothing"))
            } else {
                matched.append(unmatched(report, "not the target of letter \(letter.id) (\(letter.targetEmail)): changed nothing"))
            }
        }
        let outcome = matched.isEmpty
            ? "\(analysis.overallClass.rawValue) about letter \(letter.id) (\(matchedBy)): changed nothing"
            : matched.map(\.effect).joined(separator: "; ")
        return Verdict(verp: verp, campaignId: letter.campaignId, reports: matched, outcome: outcome, matchedLetter: true)
    }

    /// The token of the address the bounce came to. The envelope recipient, when the mail system gives it,
    /// decides; otherwise the message's own fields must agree: a forged token beside a valid one, or two
    /// letters' tokens, make the message forged.
    private func returnPathToken(_ analysis: BounceAnalysis, envelopeRecipient: String?) -> ReturnPath.Token? {
        guard let path = policy.returnPath else { return nil }
        if let envelopeRecipient, let token = path.token(in: envelopeRecipient) { return token }
        let tokens = ([analysis.originalReturnPath] + analysis.deliveredTo).compactMap { $0 }.compactMap(path.token(in:))
        guard let first = tokens.first else { return nil }
        if let other = tokens.first(where: { $0 != first }) {
            if case .forged = first { return first }
            if case .forged = other { return other }
            return .forged("two tokens that disagree")
        }
        return first
    }

    /// No token and no Message-ID: each failed address is matched to the last letter sent to it lately.
    private func byRecipient(_ analysis: BounceAnalysis, reports: [RecipientReport], verified: Bool) throws -> Verdict {
        var matched: [MatchedReport] = []
        var campaignId: Int64?
        let since = now.addingTimeInterval(-Double(policy.recipientMatchDays) * 86_400)
        for report in reports {
            let keys = [report.recipient, report.finalRecipient].compactMap { $0 }.map(EmailAddress.key)
            if report.bounceClass.isFailure || report.bounceClass == .delayed,
               let letter = try ledger.letter(.sentTo(keys: keys, since: since)) {
                campaignId = campaignId ?? letter.campaignId
                matched.append(try act(report, letter: letter, matchedBy: "recipient", verified: verified))
            } else {
                matched.append(unmatched(report, "no letter sent to \(report.recipient) in the last \(policy.recipientMatchDays) days"))
            }
        }
        let outcome = matched.isEmpty
            ? (analysis.format == .none ? "not a bounce that could be read: kept" : "\(analysis.overallClass.rawValue): nothing to act on")
            : matched.map(\.effect).joined(separator: "; ")
        return Verdict(verp: "none", campaignId: campaignId, reports: matched, outcome: outcome,
                       matchedLetter: matched.contains { $0.letterId != nil })
    }

    private func unmatched(_ report: RecipientReport, _ effect: String) -> MatchedReport {
        MatchedReport(report: report, letterId: nil, targetId: nil, matchedBy: nil, counted: false, effect: "\(report.recipient): \(effect)")
    }

    /// Moves the letter and its target on, as the report's class says.
    private func act(_ report: RecipientReport, letter: BounceLetter, matchedBy: String, verified: Bool) throws -> MatchedReport {
        var result = MatchedReport(report: report, letterId: letter.id, targetId: letter.targetId, matchedBy: matchedBy, counted: false, effect: "")
        let about = "letter \(letter.id) to \(letter.targetEmail)"
        let code = [report.status, report.diagnostic].compactMap { $0 }.joined(separator: " ")
        guard verified else {
            result.effect = "\(report.bounceClass.rawValue) for \(about), matched by \(matchedBy) without a return-path token: "
                + "changed nothing (sender.bounceAddress is set, so only bounces to it count)"
            return result
        }
        result.counted = report.bounceClass.isFailure
        var effects: [String] = []
        if report.bounceClass.bouncesLetter {
            // The reply code the bounce quotes (the relay's 250 no longer describes the letter).
            let smtpCode = (report.diagnostic ?? "").firstMatch(of: /\b[45][0-9][0-9]\b/).flatMap { Int($0.output) }
            let bounced = try ledger.markBounced(letterId: letter.id, code: smtpCode, reply: String("bounced: \(code)".prefix(2000)), at: now)
            effects.append(bounced ? "\(about) bounced (\(report.bounceClass.rawValue))" : "\(about) was \(letter.status) already")
        }
        switch report.bounceClass {
        case .mailbox:
            if try disable(letter.targetId, reason: "bounced: \(code) (letter \(letter.id), \(DateFormatter.utc("yyyy-MM-dd").string(from: now)))") {
                effects.append("target \(letter.targetEmail) disabled")
            }
        case .policy:
            effects.append("refused by policy: the target stays enabled")
        case .transient:
            effects.append("temporary failure for \(about): counted")
        case .delayed, .delivered, .autoReply, .feedback, .unrecognized:
            effects.append("\(report.bounceClass.rawValue) for \(about): changed nothing")
        case .rejected:
            break
        }
        result.effect = effects.joined(separator: "; ")
        return result
    }

    /// Disables a target that temporary failures were reported for on ``BouncePolicy/transientDays`` different
    /// days within ``BouncePolicy/transientWindowDays``.
    /// - Returns: what it did, if anything.
    func disableAfterRepeatedTransientFailures(targetId: Int64) throws -> String? {
        let since = now.addingTimeInterval(-Double(policy.transientWindowDays) * 86_400)
        let (days, first) = try ledger.transientFailureDays(targetId: targetId, since: since)
        guard days >= policy.transientDays else { return nil }
        let day = DateFormatter.utc("yyyy-MM-dd")
        let reason = "temporary failures reported on \(days) days since \(first.map(day.string(from:)) ?? "") (last: \(day.string(from: now)))"
        return try disable(targetId, reason: reason) ? "target disabled after temporary failures on \(days) days" : nil
    }

    /// - Returns: whether the target was enabled and is now disabled.
    private func disable(_ targetId: Int64, reason: String) throws -> Bool {
        try ledger.disable(targetId: targetId, reason: String(reason.prefix(500)))
    }
}
