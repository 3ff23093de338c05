//! OIOBPP parse + role mapping (+ emit) for one login: a person with 50 job-function roles
//! against a user system with 200 role mappings, all of which fire (issue #4 §5; target < 100 µs
//! per login). Two input shapes: every job role carrying a parametric KLE constraint with two
//! values (the worst case), and one in five (like KOMBIT's samples, reference §6.3).
//! Run: `cargo bench --bench privileges`. The figures are reported in the README.
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

/// The user system: 20 roles taking KLE (required) and organisation, 200 mappings; the first
/// mapping of every `every`-th job role takes its KLE value from the IdP (parametric).
fn system(every: usize) -> SystemRoles {
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
            let kle = if k == 0 && j % every == 0 {
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
    SystemRoles::from_config(&us.role, &us.mapping)
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

/// What the IdP sends: 50 job roles; every `every`-th with its parametric KLE values.
fn from_idp(owner: &Cvr, every: usize) -> String {
    let list = PrivilegeList {
        groups: (0..JOB_ROLES)
            .map(|j| PrivilegeGroup {
                scope: cvr_scope(owner),
                privileges: vec![job_role(j).into()],
                constraints: if j % every == 0 {
                    vec![Constraint {
                        name: parametric(j).into(),
                        values: vec![format!("{j}.01.01").into(), format!("{j}.01.02").into()]
                            .into(),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect(),
    };
    privileges::encode(&list, Namespace::Itst)
}

fn scenario(c: &mut Criterion, label: &str, every: usize) {
    let cvr = Cvr::parse("11111111").unwrap();
    let (system, job_roles, sent) = (system(every), catalogue(&cvr), from_idp(&cvr, every));
    let ctx = MappingContext {
        person_cvr: &cvr,
        job_roles: &job_roles,
        system: &system,
        pass_through_system_roles: false,
        attributes: &[],
    };
    let parsed = privileges::parse(&sent).unwrap();
    let once = map(&parsed, &ctx);
    assert_eq!(once.privileges.groups.len(), JOB_ROLES * ROLES_PER_JOB_ROLE);
    assert!(once.dropped.is_empty());

    c.bench_function(
        &format!("{label}: parse ({} bytes of base64)", sent.len()),
        |b| b.iter(|| privileges::parse(black_box(&sent)).unwrap()),
    );
    c.bench_function(&format!("{label}: mapping"), |b| {
        b.iter(|| map(black_box(&parsed), &ctx))
    });
    c.bench_function(&format!("{label}: parse + mapping"), |b| {
        b.iter(|| map(&privileges::parse(black_box(&sent)).unwrap(), &ctx))
    });
    c.bench_function(&format!("{label}: parse + mapping + emit"), |b| {
        b.iter(|| {
            let out = map(&privileges::parse(black_box(&sent)).unwrap(), &ctx);
            privileges::encode(&out.privileges, Namespace::Digst)
        })
    });
}

fn bench(c: &mut Criterion) {
    scenario(c, "every job role parametric", 1);
    scenario(c, "one in five parametric", 5);
}

criterion_group!(benches, bench);
criterion_main!(benches);
