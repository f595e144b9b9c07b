import Appeals
import Foundation
import Testing
@testable import Mailer

@Suite("What a refusal means, by the command it answers")
struct ReplyClassTests {
    static let cases: [(code: Int, text: String, stage: SMTPStage, kind: TransportReply.Kind, disablesTarget: Bool)] = [
        (550, "550 5.1.0 <appeals@example.org>: Sender address rejected: User unknown", .mailFrom, .stopRun(.configuration), false),
        (553, "553 5.7.1 <appeals@example.org>: Sender address not allowed", .mailFrom, .stopRun(.configuration), false),
        (451, "451 4.3.0 try later", .mailFrom, .serverBusy, false),
        (550, "550 5.1.1 <president@example.org>: Recipient address rejected: User unknown", .recipient(0), .permanent, true),
        (550, "550 5.1.10 null MX", .recipient(0), .permanent, true),
        (550, "550 5.2.1 mailbox disabled", .recipient(0), .permanent, true),
        (550, "550 No such user here", .recipient(0), .permanent, true),
        (550, "550 5.1.1 <supporter@example.net>: User unknown", .recipient(1), .permanent, false),
        (553, "553 5.1.3 bad destination mailbox address syntax", .recipient(0), .permanent, false),
        (554, "554 5.7.1 <president@example.org>: Relay access denied", .recipient(0), .stopRun(.configuration), false),
        (550, "550 relaying denied", .recipient(0), .stopRun(.configuration), false),
        (552, "552 5.2.2 mailbox full", .recipient(0), .permanent, false),
        (554, "554 5.7.1 Message rejected as spam", .message, .permanent, false),
        (552, "552 5.3.4 Message size exceeds fixed limit", .message, .permanent, false),
        (552, "552 5.2.2 <t1@gov.example>: Mailbox full, over quota", .message, .permanent, false),
        (554, "554 5.7.1 Access denied", .data, .stopRun(.configuration), false),
        (550, "550-Verification failed for <appeals@example.org> 550 Sender verify failed", .recipient(0), .stopRun(.configuration), false),
        (553, "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", .recipient(0), .stopRun(.configuration), false),
        (554, "554 Transaction failed", .message, .permanent, false),
        (451, "451 4.3.0 Temporary failure", .message, .transient, false),
        (535, "535 5.7.8 Authentication credentials invalid", .session, .stopRun(.configuration), false),
        (421, "421 4.3.2 Service not available", .session, .serverBusy, false),
        (554, "554 5.7.1 No SMTP service here", .session, .stopRun(.configuration), false),
    ]

    @Test("each refusal is classified by its command and code", arguments: cases)
    func classified(_ code: Int, _ text: String, _ stage: SMTPStage, _ kind: TransportReply.Kind, _ disables: Bool) {
        let classified = TransportReply.classify(code: code, text: text, stage: stage)
        #expect(classified == kind)
        #expect(TransportReply(classified, code: code, text: text, stage: stage).isTargetMailboxUnavailable == disables)
    }

    @Test("a refusal before the message that names our own sender is about us, whatever it says")
    func namesOurSender() {
        let text = "550 5.1.1 <appeals@example.org>: Recipient address rejected: User unknown"
        #expect(TransportReply.classify(code: 550, text: text, stage: .recipient(0), sender: "appeals@example.org") == .stopRun(.configuration))
        #expect(TransportReply.classify(code: 550, text: text, stage: .recipient(0), sender: "other@example.org") == .permanent)
        #expect(TransportReply.classify(code: 554, text: "554 <appeals@example.org> spam", stage: .message, sender: "appeals@example.org") == .permanent)
    }

    @Test("enhanced status codes are read only where RFC 3463 puts them")
    func enhancedStatus() {
        #expect(EnhancedStatus(reply: "550 5.1.1 <x>: no")?.description == "5.1.1")
        #expect(EnhancedStatus(reply: "550-5.1.10 null MX")?.description == "5.1.10")
        #expect(EnhancedStatus(reply: "550 User 5.1.1 unknown") == nil)
        #expect(EnhancedStatus(reply: "550 5.1.1x") == nil)
        #expect(EnhancedStatus(reply: "550") == nil)
    }
}

@Suite("What a reply means for its letter")
struct ReplyOutcomeTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)

    static let cases: [(kind: TransportReply.Kind, result: DeliveryResult?)] = [
        (.accepted, .sent), (.transient, .transient), (.permanent, .permanent), (.unknownOutcome, .unknown),
        (.stalled, nil), (.serverBusy, nil),
        (.stopRun(.configuration), nil), (.stopRun(.unreachable), nil), (.stopRun(.refused), nil),
    ]

    @Test("every reply class: an attempt with its result, or no attempt at all", arguments: cases)
    func outcome(_ kind: TransportReply.Kind, _ result: DeliveryResult?) {
        let outcome = TransportReply(kind, code: 451, text: "451 4.3.0 later").outcome(letterId: 7, at: Self.at)
        #expect(outcome?.result == result)
        if let outcome {
            #expect(outcome.letterId == 7 && outcome.code == 451 && outcome.reply == "451 4.3.0 later" && outcome.at == Self.at)
            #expect(!outcome.disablesTarget)
        }
    }

    @Test("a dead mailbox disables its target; a refused copy is noted on the letter")
    func details() {
        let dead = TransportReply(.permanent, code: 550, text: "550 5.1.1 User unknown", stage: .recipient(0)).outcome(letterId: 1, at: Self.at)
        #expect(dead?.disablesTarget == true)
        let copy = TransportReply(.accepted, code: 250, text: "250 Ok", refusedCopies: ["550 5.1.1 <s@example.net>"]).outcome(letterId: 1, at: Self.at)
        #expect(copy?.reply == "250 Ok (copy to the supporter refused: 550 5.1.1 <s@example.net>)")
        #expect(copy?.disablesTarget == false)
    }
}
