/// `status --json`: its keys are a published format; keys may be added, none is removed or renamed.
public struct CampaignReport: Codable, Sendable, Equatable {
    public struct LetterCounts: Codable, Sendable, Equatable {
        public var queued = 0, sending = 0, sent = 0, deferred = 0, failed = 0, cancelled = 0
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
    }

    public var campaign: String
    public var supporters: Int
    public var supportersWithoutEmbassy: Int
    public var letters: LetterCounts
    public var possibleDuplicates: Int
    public var targets: [TargetCounts]
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
            ])),
            ("possibleDuplicates", .int(possibleDuplicates)),
            ("targets", .array(targets.map { target in
                .object([
                    ("name", .string(target.name)), ("email", .string(target.email)), ("kind", .string(target.kind)),
                    ("sent", .int(target.sent)), ("failed", .int(target.failed)), ("pending", .int(target.pending)),
                    ("disabled", .bool(target.disabled)), ("held", .int(target.held)), ("removed", .bool(target.removed)),
                    ("disabledReason", target.disabledReason.map(OrderedJSON.string) ?? .null),
                ])
            })),
        ])
    }
}
