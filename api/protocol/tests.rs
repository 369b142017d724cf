use super::*;

#[test]
fn a_conversation_frame_assembled_from_the_shared_head_equals_the_serialised_frame() {
    let conversation = Conversation {
        id: 3,
        kind: ConversationKind::Group,
        title: Some("a \"last_read_seq\": trap,\"last_read_seq\":1".into()),
        members: vec![],
        last_message: None,
        last_seq: 9,
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        last_read_seq: 4,
        unread_count: 5,
        mention_count: None,
        notifications: None,
    };
    let head = conversation_head(&Conversation { last_read_seq: 0, unread_count: 0, ..conversation.clone() });
    let assembled: serde_json::Value = serde_json::from_str(&conversation_frame(&head, 4, 5)).expect("valid JSON");
    let expected = serde_json::to_value(ServerFrame::Conversation { conversation }).expect("serialises");
    assert_eq!(assembled, expected);
}
