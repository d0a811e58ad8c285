#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The engine on a small model: slices, forbids, requirements,
//! capabilities, action groups, and errors that must deny.

use latchkey_authz::{EntityData, EntityRef, PolicySet, Query};
use serde_json::{Map, Value, json};

const SCHEMA: &str = r#"
entity Role;
entity User in [Role] { id: String, tenant?: String, acr?: String, auth_time?: Long, risk_score?: Long, verification_level?: String };
entity Account { owner: String };
entity Doc { owner?: String };
action view, edit, change_payout appliesTo { principal: [User], resource: [Account], context: { auth_age?: Long } };
action "docs" ;
action read in ["docs"] appliesTo { principal: [User], resource: [Doc] };
action write in ["docs"] appliesTo { principal: [User], resource: [Doc] };
"#;

const POLICIES: &str = r#"
@id("owners-view")
permit(principal, action in [Action::"view", Action::"edit", Action::"change_payout"], resource is Account)
when { resource.owner == principal.id };

@id("risky-users-may-not-edit")
forbid(principal, action == Action::"edit", resource)
when { principal has risk_score && principal.risk_score >= 80 };

@id("payout-needs-fresh-mfa")
@acr_values("urn:latchkey:acr:mfa")
@max_age("300")
forbid(principal, action == Action::"change_payout", resource)
unless { principal has acr && principal.acr == "urn:latchkey:acr:mfa" && context has auth_age && context.auth_age <= 300 };

@id("readers")
permit(principal in Role::"reader", action in Action::"docs", resource is Doc);
"#;

fn set() -> PolicySet {
    PolicySet::compile(SCHEMA, POLICIES).expect("compiles")
}

fn user(id: &str, attrs: Value, roles: &[&str]) -> EntityData {
    EntityData {
        ty: "User".into(),
        id: id.into(),
        attrs: attrs.as_object().cloned().unwrap_or_default(),
        parents: roles.iter().map(|r| EntityRef::new("Role", *r)).collect(),
    }
}

fn account(owner: &str) -> EntityData {
    let mut a = EntityData::new("Account", "acc-1");
    a.attrs.insert("owner".into(), json!(owner));
    a
}

fn decide(
    set: &PolicySet,
    p: &EntityData,
    action: &str,
    r: &EntityData,
    ctx: Value,
    capability: bool,
) -> latchkey_authz::Outcome {
    let ctx: Map<String, Value> = ctx.as_object().cloned().unwrap_or_default();
    set.decide(&Query { principal: p, action, resource: r, context: &ctx, capability })
}

#[test]
fn owner_views_and_others_do_not() {
    let s = set();
    let out = decide(&s, &user("alice", json!({}), &[]), "view", &account("alice"), json!({}), false);
    assert!(out.allow);
    assert_eq!(out.reasons, ["owners-view"]);
    let out = decide(&s, &user("bob", json!({}), &[]), "view", &account("alice"), json!({}), false);
    assert!(!out.allow);
    assert!(out.reasons.is_empty(), "a default deny has no determining policy");
}

#[test]
fn a_forbid_overrides_and_names_itself() {
    let s = set();
    let risky = user("alice", json!({"risk_score": 90}), &[]);
    let out = decide(&s, &risky, "edit", &account("alice"), json!({}), false);
    assert!(!out.allow);
    assert_eq!(out.reasons, ["risky-users-may-not-edit"]);
    assert!(out.requirement.is_none());
}

#[test]
fn step_up_requirement_comes_from_the_annotations() {
    let s = set();
    let alice = user("alice", json!({"acr": "urn:latchkey:acr:password"}), &[]);
    let out = decide(&s, &alice, "change_payout", &account("alice"), json!({"auth_age": 10}), false);
    assert!(!out.allow);
    let req = out.requirement.expect("requirement");
    assert_eq!(req.acr_values.as_deref(), Some("urn:latchkey:acr:mfa"));
    assert_eq!(req.max_age, Some(300));
    assert!(out.time_sensitive);
    assert_eq!(out.max_ages, [300]);

    let fresh = user("alice", json!({"acr": "urn:latchkey:acr:mfa"}), &[]);
    assert!(decide(&s, &fresh, "change_payout", &account("alice"), json!({"auth_age": 10}), false).allow);
    let stale = decide(&s, &fresh, "change_payout", &account("alice"), json!({"auth_age": 301}), false);
    assert!(!stale.allow);
}

#[test]
fn a_capability_is_a_permit_that_a_forbid_still_beats() {
    let s = set();
    let bob = user("bob", json!({}), &[]);
    let out = decide(&s, &bob, "view", &account("alice"), json!({}), true);
    assert!(out.allow);
    assert_eq!(out.reasons, ["capability"]);
    let risky_bob = user("bob", json!({"risk_score": 99}), &[]);
    assert!(!decide(&s, &risky_bob, "edit", &account("alice"), json!({}), true).allow);
}

#[test]
fn roles_and_action_groups() {
    let s = set();
    let doc = EntityData::new("Doc", "d1");
    assert!(decide(&s, &user("carol", json!({}), &["reader"]), "read", &doc, json!({}), false).allow);
    assert!(decide(&s, &user("carol", json!({}), &["reader"]), "write", &doc, json!({}), false).allow);
    assert!(!decide(&s, &user("dave", json!({}), &["writer"]), "read", &doc, json!({}), false).allow);
}

#[test]
fn a_forbid_that_errors_denies() {
    let s = set();
    // risk_score as a string: the forbid's `>=` fails to evaluate.
    let odd = user("alice", json!({"risk_score": "high"}), &[]);
    let out = decide(&s, &odd, "edit", &account("alice"), json!({}), false);
    assert!(!out.allow, "an erroring forbid must not let the request through");
    assert!(out.reasons.contains(&"risky-users-may-not-edit".to_string()));
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn unknown_actions_and_bad_types_deny_with_a_reason() {
    let s = set();
    let out = decide(&s, &user("alice", json!({}), &[]), "destroy", &account("alice"), json!({}), false);
    assert!(!out.allow);
    assert!(out.errors[0].contains("not in the schema"));
    let bad = EntityData::new("not a type", "x");
    let out = decide(&s, &bad, "view", &account("alice"), json!({}), false);
    assert!(!out.allow && out.errors[0].contains("schema does not let"), "{:?}", out.errors);
    // A policy with an open resource would allow it; the schema's
    // `appliesTo` does not.
    let doc = EntityData::new("Doc", "d1");
    let out = decide(&s, &user("carol", json!({}), &["reader"]), "view", &doc, json!({}), false);
    assert!(!out.allow && out.errors[0].contains("schema does not let"), "{:?}", out.errors);
    let out = decide(&s, &user("carol", json!({}), &["reader"]), "docs", &doc, json!({}), false);
    assert!(!out.allow, "an action group is not an action one performs");
}

#[test]
fn actions_list_in_declaration_order() {
    let s = set();
    let names: Vec<&str> = s.actions().collect();
    assert_eq!(names, ["view", "edit", "change_payout", "docs", "read", "write"]);
}

#[test]
fn invalid_policies_are_refused_with_the_reason() {
    let err = PolicySet::compile(
        SCHEMA,
        r#"permit(principal, action == Action::"view", resource) when { principal.nope == 1 };"#,
    )
    .expect_err("must not validate");
    assert!(err.to_string().contains("validate"), "{err}");
    let err = PolicySet::compile(
        SCHEMA,
        "@id(\"a\") permit(principal, action, resource);\n@id(\"a\") forbid(principal, action, resource);",
    )
    .expect_err("duplicate ids");
    assert!(err.to_string().contains("two policies"), "{err}");
    let err =
        PolicySet::compile(SCHEMA, "@max_age(\"soon\") forbid(principal, action, resource);").expect_err("bad max_age");
    assert!(err.to_string().contains("max_age"), "{err}");
    assert!(PolicySet::compile("entity", POLICIES).is_err());
}

#[test]
fn a_forbid_on_an_action_group_in_its_condition_applies() {
    let policies = r#"
        @id("readers") permit(principal in Role::"reader", action in Action::"docs", resource is Doc);
        @id("no-writes") forbid(principal, action, resource) when { action in Action::"docs" && action == Action::"write" };
    "#;
    let s = PolicySet::compile(SCHEMA, policies).unwrap();
    let doc = EntityData::new("Doc", "d1");
    let carol = user("carol", json!({}), &["reader"]);
    assert!(decide(&s, &carol, "read", &doc, json!({}), false).allow);
    let out = decide(&s, &carol, "write", &doc, json!({}), false);
    assert!(!out.allow, "the forbid's `action in` needs the action entities: {out:?}");
    assert_eq!(out.reasons, ["no-writes"]);
}

#[test]
fn the_id_attribute_is_always_the_entity_id() {
    let s = set();
    // A caller claiming `id: "alice"` for mallory gains nothing.
    let mallory = user("mallory", json!({"id": "alice"}), &[]);
    assert!(!decide(&s, &mallory, "view", &account("alice"), json!({}), false).allow);
}

#[test]
fn values_cedar_cannot_hold_deny_rather_than_vanish() {
    let s = set();
    // A risk score with five decimals must not switch the forbid off.
    let odd = user("alice", json!({"risk_score": 95.12345}), &[]);
    let out = decide(&s, &odd, "edit", &account("alice"), json!({}), false);
    assert!(!out.allow);
    assert!(out.errors[0].contains("risk_score"), "{:?}", out.errors);
}

#[test]
fn clock_reads_without_max_age_are_flagged_uncacheable() {
    let s = set();
    let alice = user("alice", json!({"acr": "urn:latchkey:acr:mfa"}), &[]);
    let out = decide(&s, &alice, "change_payout", &account("alice"), json!({"auth_age": 1}), false);
    assert!(out.time_sensitive && !out.uncacheable, "annotated with @max_age");
    let freeze = format!(
        "{POLICIES}\n@id(\"freeze\") forbid(principal, action == Action::\"change_payout\", resource) when {{ context has auth_age && context.auth_age > 100000 }};"
    );
    let s = PolicySet::compile(SCHEMA, &freeze).unwrap();
    let out = decide(&s, &alice, "change_payout", &account("alice"), json!({"auth_age": 1}), false);
    assert!(out.uncacheable, "a clock read without @max_age");
}

#[test]
fn one_action_name_in_two_namespaces_is_refused() {
    let schema = r#"
        namespace A { entity User; entity Doc; action read appliesTo { principal: [User], resource: [Doc] }; }
        namespace B { entity User; entity Doc; action read appliesTo { principal: [User], resource: [Doc] }; }
    "#;
    let err = PolicySet::compile(schema, "permit(principal, action, resource);").expect_err("ambiguous");
    assert!(err.to_string().contains("two actions are named `read`"), "{err}");
}
