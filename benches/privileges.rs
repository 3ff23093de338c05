//! OIOBPP parse + role mapping (+ emit) for one login: a person with 50 job-function roles
//! against a user system with 200 role mappings (issue #4 §5; target < 100 µs per login).
//! Run: `cargo bench --bench privileges`. The figure is reported in the README.
#![allow(clippy::unwrap_used, missing_docs)]

use chsim::config::{JobRoleConfig, UserSystemConfig};
use chsim::ids::Cvr;
use chsim::privileges::{self, cvr_scope, Constraint, Namespace, PrivilegeGroup, PrivilegeList};
use chsim::roles::{map, JobRoleCatalogue, MappingContext, SystemRoles};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const JOB_ROLES: usize = 50;
const ROLES_PER_JOB_ROLE: usize = 4; // 50 × 4 = 200 mappings
const KLE: &str = "http://sts.kombit.dk/constraints/KLE/1";
const ORG: &str = "http://sts.kombit.dk/constraints/orgenhed/1";

fn job_role(i: usize) -> String {
    format!("http://korsbaek.dk/roles/jobrole/rolle-{i}/1")
}

fn parametric(i: usize) -> String {
    format!("http://korsbaek.dk/constraints/KLE-{i}/1/parametric")
}

/// The user system: 20 roles taking KLE (required) and organisation, 200 mappings; every fourth
/// mapping takes its KLE value from the IdP (parametric).
fn system() -> SystemRoles {
    let mut toml_text =
        String::from("name = \"S\"\nmetadata = \"builtin:demo-sp/x\"\nprofile = \"OIOSAML3\"\n");
    for r in 0..20 {
        toml_text.push_str(&format!(
            "[[role]]\nid = \"http://s.demo/roles/usersystemrole/r{r}/1\"\nconstraints = [{{ type = \"{KLE}\", required = true }}, {{ type = \"{ORG}\" }}]\n"
        ));
    }
    for j in 0..JOB_ROLES {
        for k in 0..ROLES_PER_JOB_ROLE {
            let role = format!("http://s.demo/roles/usersystemrole/r{}/1", (j + k * 5) % 20);
            let kle = if k == 0 {
                format!("{{ type = \"{KLE}\", parametric = \"{}\" }}", parametric(j))
            } else {
                format!("{{ type = \"{KLE}\", values = [\"{j}.*\", \"27.35.0{k}\"] }}")
            };
            toml_text.push_str(&format!(
                "[[mapping]]\njob_role = \"{}\"\nrole = \"{role}\"\nconstraints = [{kle}, {{ type = \"{ORG}\", values = [\"3f0c2a51-1111-4a6e-9b1e-{j:012}\"] }}]\n",
                job_role(j)
            ));
        }
    }
    let us: UserSystemConfig = toml::from_str(&toml_text).unwrap();
    assert_eq!(us.mapping.len(), JOB_ROLES * ROLES_PER_JOB_ROLE);
    SystemRoles::from_config(&us)
}

fn catalogue(owner: &Cvr) -> JobRoleCatalogue {
    let roles: Vec<JobRoleConfig> = (0..JOB_ROLES)
        .map(|j| JobRoleConfig {
            id: job_role(j),
            name: None,
            owner: owner.clone(),
            delegated_to: Vec::new(),
        })
        .collect();
    JobRoleCatalogue::from_config(&roles)
}

/// What the IdP sends: 50 job roles, each with its parametric KLE value.
fn from_idp(owner: &Cvr) -> String {
    let list = PrivilegeList {
        groups: (0..JOB_ROLES)
            .map(|j| PrivilegeGroup {
                scope: cvr_scope(owner),
                privileges: vec![job_role(j)],
                constraints: vec![Constraint {
                    name: parametric(j),
                    values: vec![format!("{j}.01.01"), format!("{j}.01.02")],
                }],
            })
            .collect(),
    };
    privileges::encode(&list, Namespace::Itst)
}

fn bench(c: &mut Criterion) {
    let cvr = Cvr::parse("11111111").unwrap();
    let (system, job_roles, sent) = (system(), catalogue(&cvr), from_idp(&cvr));
    let ctx = MappingContext {
        person_cvr: &cvr,
        job_roles: &job_roles,
        system: &system,
        pass_through_system_roles: false,
        attributes: &[],
    };
    let once = map(&privileges::parse(&sent).unwrap(), &ctx);
    assert_eq!(once.privileges.groups.len(), JOB_ROLES * ROLES_PER_JOB_ROLE);
    assert!(once.dropped.is_empty());

    c.bench_function("oiobpp parse (50 job roles)", |b| {
        b.iter(|| privileges::parse(black_box(&sent)).unwrap())
    });
    c.bench_function("oiobpp parse + mapping (50 job roles, 200 mappings)", |b| {
        b.iter(|| map(&privileges::parse(black_box(&sent)).unwrap(), &ctx))
    });
    c.bench_function(
        "oiobpp parse + mapping + emit (50 job roles, 200 mappings)",
        |b| {
            b.iter(|| {
                let out = map(&privileges::parse(black_box(&sent)).unwrap(), &ctx);
                privileges::encode(&out.privileges, Namespace::Digst)
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
