import Foundation

/// A letter claimed for sending, with what its message needs.
public struct DeliveryJob: Sendable {
    public var letter: Letter
    public var text: LetterText
    public var supporter: Supporter
    public var target: Target

    public init(letter: Letter, text: LetterText, supporter: Supporter, target: Target) {
        self.letter = letter
        self.text = text
        self.supporter = supporter
        self.target = target
    }
}

/// What one attempt to hand a letter to the server came to, classified by SMTP reply code.
public enum DeliveryResult: Sendable, Equatable {
    /// 2xx after DATA.
    case sent
    /// 4xx, a dropped connection or a timeout before the message was handed over: try again later.
    case transient
    /// 5xx: the server refused the letter for good.
    case permanent
    /// The connection failed after the whole message was sent: the server may have accepted it.
    /// Tried again later, and counted as a possible duplicate.
    case unknown
}

/// The recorded result of one attempt.
public struct DeliveryOutcome: Sendable, Equatable {
    public var letterId: Int64
    public var result: DeliveryResult
    public var code: Int?
    public var reply: String
    public var at: Date
    /// Set for "mailbox unavailable" replies: the target's address is dead and receives nothing more.
    public var disablesTarget: Bool

    public init(letterId: Int64, result: DeliveryResult, code: Int?, reply: String, at: Date, disablesTarget: Bool = false) {
        self.letterId = letterId
        self.result = result
        self.code = code
        self.reply = reply
        self.at = at
        self.disablesTarget = disablesTarget
    }
}

/// Exponential back-off with jitter, bounded by the config's `retryBaseSeconds` and `retryMaxSeconds`.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseSeconds: Int
    public var maxSeconds: Int

    public init(maxAttempts: Int, baseSeconds: Int, maxSeconds: Int) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
    }

    public init(_ limits: AppConfig.Limits) {
        self.init(maxAttempts: limits.maxAttempts, baseSeconds: limits.retryBaseSeconds, maxSeconds: limits.retryMaxSeconds)
    }

    /// The wait after the `attempt`-th failed attempt: base·2^(attempt−1), capped, then jittered down by up to half
    /// so that letters deferred together do not all come back together; never under `baseSeconds`.
    /// - Parameter jitter: a number in `0..<1`.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> TimeInterval {
        let exponential = Double(baseSeconds) * pow(2, Double(max(0, min(attempt - 1, 30))))
        let capped = min(exponential, Double(maxSeconds))
        return max(Double(baseSeconds), capped * (1 - 0.5 * jitter))
    }
}
