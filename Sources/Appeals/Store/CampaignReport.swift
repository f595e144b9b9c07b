/// `status --json`: its keys are a published format; keys may be added, none is removed or renamed.
public struct CampaignReport: Codable, Sendable, Equatable {
    public struct LetterCounts: Codable, Sendable, Equatable {
        public var queued = 0, sending = 0, sent = 0, deferred = 0, failed = 0, cancelled = 0, bounced = 0
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
    }

    public var campaign: String
    public var supporters: Int
    public var supportersWithoutEmbassy: Int
    public var letters: LetterCounts
    public var possibleDuplicates: Int
    public var targets: [TargetCounts]
    public var bounces: BounceCounts
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
