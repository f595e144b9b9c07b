/// `status --json`: its keys are a published format; keys may be added, none is removed or renamed.
public struct CampaignReport: Codable, Sendable, Equatable {
    public struct LetterCounts: Codable, Sendable, Equatable {
        public var queued = 0, sending = 0, sent = 0, deferred = 0, failed = 0, cancelled = 0, bounced = 0

        public init() {}
    }

    /// Bounce reports that matched a letter and changed something (or were counted), by what they said.
    public struct BounceCounts: Codable, Sendable, Equatable {
        /// The address does not exist: letter bounced, target disabled.
        public var mailbox = 0
        /// Refused because of the sender (spam, DMARC, blocked): letter bounced, target kept.
        public var policy = 0
        /// Refused for good for another reason: letter bounced, target kept.
        public var rejected = 0
        /// A full mailbox or another temporary failure: counted toward disabling the target.
        public var transient = 0

        public init(mailbox: Int = 0, policy: Int = 0, rejected: Int = 0, transient: Int = 0) {
            (self.mailbox, self.policy, self.rejected, self.transient) = (mailbox, policy, rejected, transient)
        }

        var json: OrderedJSON {
            .object([("mailbox", .int(mailbox)), ("policy", .int(policy)), ("rejected", .int(rejected)), ("transient", .int(transient))])
        }
    }

    public struct TargetCounts: Codable, Sendable, Equatable {
        public var name: String
        public var email: String
        public var kind: String
        public var sent: Int
        public var failed: Int
        /// Queued, sending or deferred.
        public var pending: Int
        /// Receives nothing (its mailbox does not exist, or the organizer disabled or removed it).
        public var disabled: Bool
        public var disabledReason: String?
        public var removed: Bool
        /// Unsent letters kept back because the target is disabled.
        public var held: Int
        /// Letters that bounced after they were sent.
        public var bounced: Int
        public var bounces: BounceCounts

        public init(name: String, email: String, kind: String, sent: Int, failed: Int, pending: Int, disabled: Bool, disabledReason: String?,
                    removed: Bool, held: Int, bounced: Int, bounces: BounceCounts) {
            (self.name, self.email, self.kind, self.sent, self.failed, self.pending) = (name, email, kind, sent, failed, pending)
            (self.disabled, self.disabledReason, self.removed, self.held, self.bounced, self.bounces) = (disabled, disabledReason, removed, held, bounced, bounces)
        }
    }

    public var campaign: String
    public var supporters: Int
    public var supportersWithoutEmbassy: Int
    public var letters: LetterCounts
    public var possibleDuplicates: Int
    public var targets: [TargetCounts]
    public var bounces: BounceCounts

    public init(campaign: String, supporters: Int, supportersWithoutEmbassy: Int, letters: LetterCounts, possibleDuplicates: Int,
                targets: [TargetCounts], bounces: BounceCounts) {
        (self.campaign, self.supporters, self.supportersWithoutEmbassy, self.letters) = (campaign, supporters, supportersWithoutEmbassy, letters)
        (self.possibleDuplicates, self.targets, self.bounces) = (possibleDuplicates, targets, bounces)
    }
}

extension CampaignReport.LetterCounts {
    /// Counts `count` letters of the stored status `status`; an unknown one is not counted.
    public mutating func add(_ count: Int, status: String) {
        switch LetterStatus(rawValue: status) {
        case .queued: queued += count
        case .sending: sending += count
        case .sent: sent += count
        case .deferred: deferred += count
        case .failed: failed += count
        case .cancelled: cancelled += count
        case .bounced: bounced += count
        case nil: break
        }
    }
}

extension CampaignReport.BounceCounts {
    /// Counts `count` reports of the stored class `bounceClass`; the classes that change nothing are not counted.
    public mutating func add(_ count: Int, bounceClass: String) {
        switch BounceClass(rawValue: bounceClass) {
        case .mailbox: mailbox += count
        case .policy: policy += count
        case .rejected: rejected += count
        case .transient: transient += count
        default: break
        }
    }
}

extension CampaignReport {
    /// The report as `status --json` prints it, keys in their published order.
    public var json: OrderedJSON {
        .object([
            ("campaign", .string(campaign)),
            ("supporters", .int(supporters)),
            ("supportersWithoutEmbassy", .int(supportersWithoutEmbassy)),
            ("letters", .object([
                ("queued", .int(letters.queued)), ("sending", .int(letters.sending)), ("sent", .int(letters.sent)),
                ("deferred", .int(letters.deferred)), ("failed", .int(letters.failed)), ("cancelled", .int(letters.cancelled)),
                ("bounced", .int(letters.bounced)),
            ])),
            ("possibleDuplicates", .int(possibleDuplicates)),
            ("targets", .array(targets.map { target in
                .object([
                    ("name", .string(target.name)), ("email", .string(target.email)), ("kind", .string(target.kind)),
                    ("sent", .int(target.sent)), ("failed", .int(target.failed)), ("pending", .int(target.pending)),
                    ("disabled", .bool(target.disabled)), ("held", .int(target.held)), ("removed", .bool(target.removed)),
                    ("disabledReason", target.disabledReason.map(OrderedJSON.string) ?? .null),
                    ("bounced", .int(target.bounced)), ("bounces", target.bounces.json),
                ])
            })),
            ("bounces", bounces.json),
        ])
    }
}
