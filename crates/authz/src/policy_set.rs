//! A compiled, validated, sliced policy set, and decisions over it.
//!
//! Cedar evaluates every policy it is given. Most policies name one action
//! and one resource type in their scope, so the set is cut at compile time
//! into one slice per (action, resource type) of the schema: a decision
//! evaluates only the policies that could apply to it, which keeps a
//! thousand-policy set close to the cost of a ten-policy one.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Effect, Entities, EntityUid, PolicyId, ResourceConstraint, Schema,
    ValidationMode, Validator,
};
use cedar_policy_core::ast;
use cedar_policy_core::entities::{NoEntitiesSchema, TCComputation};
use cedar_policy_core::extensions::Extensions;
use serde::Serialize;

use crate::entity::{EntityData, PreparedEntity, TypeNames, json_to_cedar};
use crate::requirement::{self, Requirement};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    #[error("schema: {0}")]
    Schema(String),
    #[error("policies: {0}")]
    Parse(String),
    #[error("policies do not validate against the schema: {0}")]
    Invalid(String),
    #[error("{0}")]
    Annotation(String),
}

/// What callers may know about one policy.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub id: String,
    pub effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    /// Reads the clock (`context.now` or `context.auth_age`): decisions it
    /// takes part in may flip without any change event.
    pub time_sensitive: bool,
    /// Reads the clock without a `@max_age` saying when its answer flips:
    /// decisions it takes part in are never cached.
    #[serde(skip)]
    pub clock_unbounded: bool,
    /// Reads `action` in its conditions (`action in Action::"group"`), so
    /// the evaluation needs the action entities.
    #[serde(skip)]
    pub reads_action: bool,
}

/// A principal or resource of a query: its data, converted to Cedar's
/// form by the decision, or an entity converted already.
#[derive(Clone, Copy)]
pub enum EntityInput<'a> {
    Data(&'a EntityData),
    Prepared(&'a PreparedEntity),
}

impl<'a> From<&'a EntityData> for EntityInput<'a> {
    fn from(e: &'a EntityData) -> Self {
        EntityInput::Data(e)
    }
}

impl<'a> From<&'a PreparedEntity> for EntityInput<'a> {
    fn from(e: &'a PreparedEntity) -> Self {
        EntityInput::Prepared(e)
    }
}

impl EntityInput<'_> {
    fn ty(&self) -> &str {
        match self {
            EntityInput::Data(d) => &d.ty,
            EntityInput::Prepared(p) => &p.ty,
        }
    }

    fn to_cedar(self, names: &TypeNames) -> Result<Arc<ast::Entity>, String> {
        match self {
            EntityInput::Data(d) => d.to_cedar(names),
            EntityInput::Prepared(p) => Ok(p.entity.clone()),
        }
    }
}

/// One request to decide.
pub struct Query<'a> {
    pub principal: &'a EntityData,
    pub action: &'a str,
    pub resource: &'a EntityData,
    pub context: &'a serde_json::Map<String, serde_json::Value>,
    /// The subject holds an unexpired capability for this action on this
    /// resource: it counts as a permit, which a forbid still overrides.
    pub capability: bool,
}

/// A [`Query`] whose principal and resource may be prepared already
/// ([`PolicySet::prepare`]).
pub struct PreparedQuery<'a> {
    pub principal: EntityInput<'a>,
    pub action: &'a str,
    pub resource: EntityInput<'a>,
    pub context: &'a serde_json::Map<String, serde_json::Value>,
    pub capability: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub allow: bool,
    /// The determining policies (the permits behind an allow, the forbids
    /// behind a deny; empty for a default deny). `capability` when an
    /// explicit grant allowed.
    pub reasons: Vec<String>,
    /// Evaluation errors, by policy. A forbid that fails to evaluate
    /// denies: an error must never be what lets a request through.
    pub errors: Vec<String>,
    /// For a deny: what the determining forbids say would allow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    /// Some policy of the slice reads the clock.
    #[serde(skip)]
    pub time_sensitive: bool,
    /// The `max_age` annotations of the slice: the moments, counted from
    /// `auth_time`, at which a clock-reading decision can flip.
    #[serde(skip)]
    pub max_ages: Vec<i64>,
    /// A policy of the slice reads the clock with no `@max_age`: the
    /// decision must not be cached.
    #[serde(skip)]
    pub uncacheable: bool,
}

impl Outcome {
    fn deny_with(error: String) -> Outcome {
        Outcome { allow: false, errors: vec![error], ..Default::default() }
    }
}

/// An action of the schema and the entity types it applies to.
struct ActionInfo {
    name: String,
    uid: EntityUid,
    principals: HashSet<String>,
    resources: HashSet<String>,
}

struct Slice {
    set: cedar_policy::PolicySet,
    /// Some policy constrains the action by an action group, which Cedar
    /// resolves through the action entities.
    needs_action_entities: bool,
    time_sensitive: bool,
    uncacheable: bool,
    max_ages: Vec<i64>,
}

pub struct PolicySet {
    slices: HashMap<(String, String), Slice>,
    /// Policies of each action whose resource type is open, for resource
    /// types the schema does not declare.
    open_resource: HashMap<String, Slice>,
    actions: Vec<ActionInfo>,
    /// The schema's action entities, transitively closed, shared by every
    /// decision that needs them.
    action_entities: Vec<Arc<ast::Entity>>,
    /// The schema's entity type names, parsed once.
    names: TypeNames,
    info: HashMap<String, PolicyInfo>,
    order: Vec<String>,
    authorizer: Authorizer,
    source_len: usize,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet").field("policies", &self.order.len()).finish()
    }
}

impl PolicySet {
    /// Parses the schema (Cedar schema syntax) and the policies, gives each
    /// policy its `@id` annotation as id, validates strictly, and slices.
    pub fn compile(schema_src: &str, policies_src: &str) -> Result<PolicySet, CompileError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(schema_src).map_err(|e| CompileError::Schema(flatten(&e)))?;
        let parsed = cedar_policy::PolicySet::from_str(policies_src).map_err(|e| CompileError::Parse(flatten(&e)))?;
        if parsed.templates().next().is_some() {
            return Err(CompileError::Parse(
                "templates are not supported: grant one subject one action on one resource with a capability".into(),
            ));
        }

        let mut policies = Vec::new();
        let mut seen = HashSet::new();
        for p in parsed.policies() {
            let p = match p.annotation("id") {
                Some(id) => p.new_id(PolicyId::new(id)),
                None => p.clone(),
            };
            if !seen.insert(p.id().to_string()) {
                return Err(CompileError::Parse(format!("two policies have the id `{}`", p.id())));
            }
            if let Some(v) = p.annotation(requirement::MAX_AGE)
                && requirement::parse_max_age(v).is_none()
            {
                return Err(CompileError::Annotation(format!(
                    "policy `{}`: @max_age must be a number of seconds, not `{v}`",
                    p.id()
                )));
            }
            policies.push(p);
        }
        let all =
            cedar_policy::PolicySet::from_policies(policies.clone()).map_err(|e| CompileError::Parse(flatten(&e)))?;
        let validation = Validator::new(schema.clone()).validate(&all, ValidationMode::Strict);
        if !validation.validation_passed() {
            let msgs: Vec<String> = validation.validation_errors().map(|e| flatten(e)).collect();
            return Err(CompileError::Invalid(msgs.join("; ")));
        }

        // Each action's ancestors (action groups), to expand `action in
        // group` into the member actions when slicing. The closure is
        // computed here, once, so that decisions need not.
        let mut ancestors: HashMap<EntityUid, HashSet<EntityUid>> = HashMap::new();
        let action_set = Entities::from_entities(
            schema.action_entities().map_err(|e| CompileError::Schema(flatten(&e)))?.iter().cloned(),
            None,
        )
        .map_err(|e| CompileError::Schema(flatten(&e)))?;
        let action_entities: Vec<Arc<ast::Entity>> =
            action_set.iter().map(|e| Arc::new(AsRef::<ast::Entity>::as_ref(e).clone())).collect();
        let mut actions: Vec<ActionInfo> = Vec::new();
        for uid in schema.actions() {
            let mut up = HashSet::new();
            if let Some(e) = action_set.get(uid) {
                for other in schema.actions() {
                    if other != uid && action_set.is_ancestor_of(other, &e.uid()) {
                        up.insert(other.clone());
                    }
                }
            }
            ancestors.insert(uid.clone(), up);
            actions.push(ActionInfo {
                name: uid.id().unescaped().to_owned(),
                uid: uid.clone(),
                principals: schema
                    .principals_for_action(uid)
                    .map(|i| i.map(ToString::to_string).collect())
                    .unwrap_or_default(),
                resources: schema
                    .resources_for_action(uid)
                    .map(|i| i.map(ToString::to_string).collect())
                    .unwrap_or_default(),
            });
        }
        // AuthZEN names an action by its id alone: two namespaces declaring
        // the same name would make the name ambiguous.
        let mut names = HashSet::new();
        if let Some(dup) = actions.iter().find(|a| !names.insert(a.name.clone())) {
            return Err(CompileError::Schema(format!(
                "two actions are named `{}` (in different namespaces): AuthZEN names actions by name alone",
                dup.name
            )));
        }
        // Declaration order, which action search answers in.
        actions.sort_by_key(|a| declared_at(schema_src, &a.name));

        let mut info = HashMap::new();
        let mut order = Vec::new();
        for p in &policies {
            let id = p.id().to_string();
            let est = p.to_json().map(|j| j.to_string()).unwrap_or_default();
            let time_sensitive = est.contains(r#""attr":"now""#) || est.contains(r#""attr":"auth_age""#);
            info.insert(
                id.clone(),
                PolicyInfo {
                    id: id.clone(),
                    effect: match p.effect() {
                        Effect::Permit => "permit",
                        Effect::Forbid => "forbid",
                    },
                    requirement: Requirement::from_annotations(|k| p.annotation(k)),
                    time_sensitive,
                    clock_unbounded: time_sensitive && p.annotation(requirement::MAX_AGE).is_none(),
                    reads_action: est.contains(r#"{"Var":"action"}"#),
                },
            );
            order.push(id);
        }

        let scope_of = |p: &cedar_policy::Policy| -> (Option<HashSet<EntityUid>>, bool, Option<String>) {
            let (acts, grouped) = match p.action_constraint() {
                ActionConstraint::Any => (None, false),
                ActionConstraint::Eq(a) => expand(std::slice::from_ref(&a), &ancestors),
                ActionConstraint::In(list) => expand(&list, &ancestors),
            };
            let rtype = match p.resource_constraint() {
                ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => Some(t.to_string()),
                ResourceConstraint::Eq(uid) => Some(uid.type_name().to_string()),
                ResourceConstraint::In(_) | ResourceConstraint::Any => None,
                #[allow(unreachable_patterns)]
                _ => None,
            };
            (acts, grouped, rtype)
        };
        let scopes: Vec<_> = policies.iter().map(|p| (p, scope_of(p))).collect();
        let build = |action: &EntityUid, rtype: Option<&str>| -> Result<Slice, CompileError> {
            let mut chosen = Vec::new();
            let mut needs = false;
            for (p, (acts, grouped, pr)) in &scopes {
                let action_ok = acts.as_ref().is_none_or(|s| s.contains(action));
                let type_ok = match (pr, rtype) {
                    (None, _) => true,
                    (Some(pt), Some(t)) => pt == t,
                    (Some(_), None) => false,
                };
                if action_ok && type_ok {
                    needs |= *grouped;
                    chosen.push((*p).clone());
                }
            }
            let of = |p: &cedar_policy::Policy| info.get(&p.id().to_string());
            let time_sensitive = chosen.iter().any(|p| of(p).is_some_and(|i| i.time_sensitive));
            let uncacheable = chosen.iter().any(|p| of(p).is_some_and(|i| i.clock_unbounded));
            needs |= chosen.iter().any(|p| of(p).is_some_and(|i| i.reads_action));
            let mut max_ages: Vec<i64> = chosen
                .iter()
                .filter_map(|p| p.annotation(requirement::MAX_AGE).and_then(requirement::parse_max_age))
                .collect();
            max_ages.sort_unstable();
            max_ages.dedup();
            let set = cedar_policy::PolicySet::from_policies(chosen).map_err(|e| CompileError::Parse(flatten(&e)))?;
            Ok(Slice { set, needs_action_entities: needs, time_sensitive, uncacheable, max_ages })
        };

        let types: Vec<String> = schema.entity_types().map(|t| t.to_string()).collect();
        let names: TypeNames = schema.entity_types().map(|t| (t.to_string(), t.clone())).collect();
        let mut slices = HashMap::new();
        let mut open_resource = HashMap::new();
        for a in &actions {
            for t in &types {
                slices.insert((a.name.clone(), t.clone()), build(&a.uid, Some(t))?);
            }
            open_resource.insert(a.name.clone(), build(&a.uid, None)?);
        }

        Ok(PolicySet {
            slices,
            open_resource,
            actions,
            action_entities,
            names,
            info,
            order,
            authorizer: Authorizer::new(),
            source_len: policies_src.len(),
        })
    }

    /// The schema's actions, in declaration order.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| a.name.as_str())
    }

    pub fn policies(&self) -> impl Iterator<Item = &PolicyInfo> {
        self.order.iter().filter_map(|id| self.info.get(id))
    }

    pub fn policy(&self, id: &str) -> Option<&PolicyInfo> {
        self.info.get(id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn source_len(&self) -> usize {
        self.source_len
    }

    /// Converts an entity to Cedar's form once, for callers that decide
    /// about it many times. The result does not depend on the policies, so
    /// it stays valid when another set is installed; it must be prepared
    /// again whenever its data changes. The error is the one a decision on
    /// the data would give.
    pub fn prepare(&self, data: &EntityData) -> Result<PreparedEntity, String> {
        Ok(PreparedEntity { ty: data.ty.clone(), entity: data.to_cedar(&self.names)? })
    }

    /// Decides one request. Never fails: anything that cannot be evaluated
    /// (an action outside the schema, a type that is not a Cedar name) is
    /// a deny whose error says why.
    pub fn decide(&self, q: &Query<'_>) -> Outcome {
        self.decide_prepared(&PreparedQuery {
            principal: EntityInput::Data(q.principal),
            action: q.action,
            resource: EntityInput::Data(q.resource),
            context: q.context,
            capability: q.capability,
        })
    }

    /// [`PolicySet::decide`], for entities that may be prepared already.
    pub fn decide_prepared(&self, q: &PreparedQuery<'_>) -> Outcome {
        let Some(action) = self.actions.iter().find(|a| a.name == q.action) else {
            return Outcome::deny_with(format!("action `{}` is not in the schema", q.action));
        };
        // The schema says which types an action applies to; anything else
        // is a question the policies were never validated for.
        let (principal_ty, resource_ty) = (q.principal.ty(), q.resource.ty());
        if !action.principals.contains(principal_ty) || !action.resources.contains(resource_ty) {
            return Outcome::deny_with(format!(
                "the schema does not let `{}` apply to a `{principal_ty}` principal and a `{resource_ty}` resource",
                q.action
            ));
        }
        let action_uid = &action.uid;
        let slice = match self.slices.get(&(q.action.to_owned(), resource_ty.to_owned())) {
            Some(s) => s,
            None => match self.open_resource.get(q.action) {
                Some(s) => s,
                None => return Outcome::deny_with(format!("action `{}` is not in the schema", q.action)),
            },
        };
        let principal = match q.principal.to_cedar(&self.names) {
            Ok(e) => e,
            Err(e) => return Outcome::deny_with(format!("subject: {e}")),
        };
        let resource = match q.resource.to_cedar(&self.names) {
            Ok(e) => e,
            Err(e) => return Outcome::deny_with(format!("resource: {e}")),
        };
        let p_uid = EntityUid::from(principal.uid().clone());
        let r_uid = EntityUid::from(resource.uid().clone());
        let mut entities = vec![principal];
        // A subject asking about itself is one entity, not two.
        if r_uid != p_uid {
            entities.push(resource);
        }
        if slice.needs_action_entities {
            entities.extend(self.action_entities.iter().cloned());
        }
        let entities = match entity_store(entities) {
            Ok(e) => e,
            Err(e) => return Outcome::deny_with(format!("entities: {e}")),
        };
        let context = match context(q.context) {
            Ok(c) => c,
            Err(e) => return Outcome::deny_with(e),
        };
        let request = match cedar_policy::Request::new(p_uid, action_uid.clone(), r_uid, context, None) {
            Ok(r) => r,
            Err(e) => return Outcome::deny_with(format!("request: {}", flatten(&e))),
        };
        let response = self.authorizer.is_authorized(&request, &slice.set, &entities);

        let mut out = Outcome {
            allow: response.decision() == Decision::Allow,
            reasons: response.diagnostics().reason().map(|id| id.to_string()).collect(),
            time_sensitive: slice.time_sensitive,
            uncacheable: slice.uncacheable,
            max_ages: slice.max_ages.clone(),
            ..Default::default()
        };
        for err in response.diagnostics().errors() {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(e) = err;
            let id = e.policy_id().to_string();
            out.errors.push(format!("{id}: {}", flatten(err)));
            if self.info.get(&id).is_some_and(|i| i.effect == "forbid") {
                out.allow = false;
                out.reasons.retain(|r| self.info.get(r).is_some_and(|i| i.effect == "forbid"));
                out.reasons.push(id);
            }
        }
        // A deny's reasons are forbids: with none, the deny is only the
        // absence of a permit, which a capability supplies.
        if !out.allow && q.capability && out.reasons.is_empty() {
            out.allow = true;
            out.reasons = vec!["capability".to_owned()];
        }
        if !out.allow {
            let mut req: Option<Requirement> = None;
            for r in &out.reasons {
                if let Some(need) = self.info.get(r).and_then(|i| i.requirement.as_ref()) {
                    req.get_or_insert_with(Requirement::default).merge(need);
                }
            }
            out.requirement = req;
        }
        out
    }
}

/// The request's context. Plain values (see [`crate::entity::plain`]) make
/// the record directly, as Cedar's `Context::from_pairs` evaluates it to;
/// anything else goes through `Context::from_pairs`, as before, with the
/// same errors.
fn context(ctx: &serde_json::Map<String, serde_json::Value>) -> Result<Context, String> {
    let plain: Option<Vec<(&String, Option<ast::Value>)>> =
        ctx.iter().map(|(k, v)| Some((k, crate::entity::plain(v)?))).collect();
    if let Some(plain) = plain {
        let record = plain.into_iter().filter_map(|(k, v)| Some((k.as_str().into(), v?))).collect();
        return Ok(Context::from(ast::Context::Value(Arc::new(record))));
    }
    let mut pairs = Vec::with_capacity(ctx.len());
    for (k, v) in ctx {
        match json_to_cedar(v) {
            Ok(Some(expr)) => pairs.push((k.clone(), expr)),
            Ok(None) => {}
            Err(e) => return Err(format!("context.{k}: {e}")),
        }
    }
    Context::from_pairs(pairs).map_err(|e| format!("context: {}", flatten(&e)))
}

/// The entities of one decision, as Cedar's `Entities::from_entities`
/// builds them. That function always computes the transitive closure of
/// the hierarchy (and refuses cycles), which was a fifth of a decision's
/// time; yet ancestors arrive already expanded (the caller owns the
/// hierarchy), and the action entities were closed at compile time. Over
/// these few entities the closure can only add something when some
/// entity's ancestor is itself one of them: the principal or the resource
/// (one inside the other, or a cycle), or an action. Only then is it
/// computed, exactly as before; otherwise it would change nothing, and the
/// entities go in as they are.
/// The error is Cedar's, on one line.
fn entity_store(entities: Vec<Arc<ast::Entity>>) -> Result<Entities, String> {
    let members: Vec<&ast::EntityUID> = entities.iter().map(|e| e.uid()).collect();
    let inside = entities.iter().any(|e| {
        !e.uid().entity_type().is_action() && e.ancestors().any(|a| a.entity_type().is_action() || members.contains(&a))
    });
    let extensions = Extensions::all_available();
    let store = if inside {
        cedar_policy_core::entities::Entities::from_entities(
            entities.into_iter().map(Arc::unwrap_or_clone),
            None::<&NoEntitiesSchema>,
            TCComputation::ComputeNow,
            extensions,
        )
    } else {
        cedar_policy_core::entities::Entities::new().add_entities(
            entities,
            None::<&NoEntitiesSchema>,
            TCComputation::AssumeAlreadyComputed,
            extensions,
        )
    };
    store.map(Entities::from).map_err(|e| flatten(&e))
}

/// Expands action groups into their members; the flag says a group was
/// named (so the evaluation needs the action entities).
fn expand(
    named: &[EntityUid],
    ancestors: &HashMap<EntityUid, HashSet<EntityUid>>,
) -> (Option<HashSet<EntityUid>>, bool) {
    let mut out = HashSet::new();
    let mut grouped = false;
    for a in named {
        out.insert(a.clone());
        for (member, ups) in ancestors {
            if ups.contains(a) {
                out.insert(member.clone());
                grouped = true;
            }
        }
    }
    (Some(out), grouped)
}

/// Where an action is first named in the schema source, for ordering.
fn declared_at(schema_src: &str, name: &str) -> usize {
    let quoted = format!("\"{name}\"");
    let bare = schema_src
        .match_indices(name)
        .find(|(i, _)| {
            let before = schema_src[..*i].chars().next_back();
            let after = schema_src[i + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
        .map(|(i, _)| i);
    [schema_src.find(&quoted), bare].into_iter().flatten().min().unwrap_or(usize::MAX)
}

/// One line from a Cedar error and its causes.
fn flatten(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::entity::EntityRef;
    use cedar_policy::EntityTypeName;

    fn names() -> TypeNames {
        ["User", "Role", "Doc"].iter().map(|t| (t.to_string(), EntityTypeName::from_str(t).unwrap())).collect()
    }

    fn entity(ty: &str, id: &str, parents: &[(&str, &str)]) -> Arc<ast::Entity> {
        let mut d = EntityData::new(ty, id);
        d.attrs.insert("n".into(), serde_json::json!(1));
        d.parents = parents.iter().map(|(t, i)| EntityRef::new(*t, *i)).collect();
        d.to_cedar(&names()).unwrap()
    }

    /// What Cedar's facade builds from the same entities (closure computed).
    fn by_cedar(entities: &[Arc<ast::Entity>]) -> Result<Entities, String> {
        Entities::from_entities(entities.iter().map(|e| cedar_policy::Entity::from(ast::Entity::clone(e))), None)
            .map_err(|e| flatten(&e))
    }

    #[test]
    fn skipping_the_closure_builds_what_cedar_builds() {
        let action_schema = Schema::from_cedarschema_str(
            "entity User; entity Doc; action \"all\"; action read in [\"all\"] appliesTo { principal: [User], resource: [Doc] };",
        )
        .unwrap()
        .0;
        let actions: Vec<Arc<ast::Entity>> = action_schema
            .action_entities()
            .unwrap()
            .iter()
            .map(|e| Arc::new(AsRef::<ast::Entity>::as_ref(e).clone()))
            .collect();
        let alice = entity("User", "alice", &[("Role", "reader"), ("Role", "staff")]);
        let cases: Vec<Vec<Arc<ast::Entity>>> = vec![
            // The usual: ancestors outside the request.
            vec![alice.clone(), entity("Doc", "d1", &[("Role", "reader")])],
            vec![alice.clone()],
            vec![alice.clone(), entity("Doc", "d1", &[])].into_iter().chain(actions.iter().cloned()).collect(),
            // The resource inside the principal: it inherits the principal's roles.
            vec![alice.clone(), entity("Doc", "d1", &[("User", "alice")])],
            // The principal inside the resource.
            vec![entity("User", "bob", &[("Doc", "d1")]), entity("Doc", "d1", &[("Role", "owners")])],
            // An action as an ancestor, with the action entities present.
            vec![alice.clone(), entity("Doc", "d1", &[("Action", "read")])]
                .into_iter()
                .chain(actions.iter().cloned())
                .collect(),
        ];
        for (i, case) in cases.iter().enumerate() {
            let ours = entity_store(case.clone()).unwrap();
            let theirs = by_cedar(case).unwrap();
            assert!(ours.deep_eq(&theirs), "case {i}");
        }
        // The nested case really gains an ancestor through the closure.
        let nested = entity_store(cases[3].clone()).unwrap();
        let d1 = EntityUid::from_str(r#"Doc::"d1""#).unwrap();
        let staff = EntityUid::from_str(r#"Role::"staff""#).unwrap();
        assert!(nested.is_ancestor_of(&staff, &d1));
    }

    #[test]
    fn plain_contexts_are_what_cedar_builds() {
        let ctx = serde_json::json!({"now": 5, "a": [1, "x", null], "n": null, "r": {"k": true, "z": null}});
        let ctx = ctx.as_object().unwrap();
        let ours = context(ctx).unwrap();
        let pairs: Vec<(String, cedar_policy::RestrictedExpression)> =
            ctx.iter().filter_map(|(k, v)| Some((k.clone(), json_to_cedar(v).unwrap()?))).collect();
        let theirs = Context::from_pairs(pairs).unwrap();
        assert_eq!(AsRef::<ast::Context>::as_ref(&ours), AsRef::<ast::Context>::as_ref(&theirs));
        // Not plain: Cedar's way, errors included.
        let odd = serde_json::json!({"a": 0.5, "b": 1.23456});
        assert_eq!(
            context(odd.as_object().unwrap()).err().as_deref(),
            Some("context.b: 1.23456 is not a Cedar number (a 64-bit integer, or at most four decimals)")
        );
    }

    #[test]
    fn cycles_are_still_refused() {
        let cycle = vec![entity("User", "alice", &[("Doc", "d1")]), entity("Doc", "d1", &[("User", "alice")])];
        assert_eq!(entity_store(cycle.clone()).err(), by_cedar(&cycle).err());
        assert!(entity_store(cycle).is_err());
        let own_parent = vec![entity("User", "alice", &[("User", "alice")])];
        assert!(entity_store(own_parent.clone()).is_err());
        assert!(by_cedar(&own_parent).is_err());
    }
}
