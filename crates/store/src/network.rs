//! The Patient Safety Network (issue 12, docs/network.md; migration 0013): the change idea
//! library and its category catalogue, the measures an idea aims to move, the links from QI
//! projects' change ideas to library ideas, peer groups, stories and comments with their
//! moderation, team contacts and learning events, and the feed of what is new. SQL only: the
//! statistics are the `network` crate's and who may see what is `domain::access`'s. Every
//! change is written with its audit entry in one transaction; a refused change writes nothing.
//! One SQL text for both engines.

use crate::{Result, Store, StoreError};
use sqlx::{Any, Row, Transaction};

/// Moderation states of stories and comments.
pub const PENDING: &str = "pending";
pub const PUBLISHED: &str = "published";
pub const REJECTED: &str = "rejected";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    pub family: String,
    pub name: String,
    pub description: String,
}

/// An idea as written by a user (checked by [`check_idea`] before anything is written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIdea {
    pub title: String,
    pub description: String,
    pub category_id: i64,
    /// Catalogue measure ids the idea aims to move.
    pub measures: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idea {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category_id: i64,
    pub category: String,
    pub measures: Vec<String>,
    pub created_by: String,
    pub created_at: String,
}

/// A QI project's change idea (by its id in the project's driver diagram) linked to an idea.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub project_id: i64,
    pub change_idea: String,
    pub idea_id: i64,
    pub linked_by: String,
    pub linked_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerGroup {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Ward codes or trust codes, sorted.
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStory {
    /// The team's ward or trust.
    pub org_code: String,
    pub idea_id: Option<i64>,
    pub title: String,
    pub body: String,
    /// A catalogue measure whose live chart of the team's own data the team shares.
    pub chart_measure: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Story {
    pub id: i64,
    pub org_code: String,
    pub idea_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub chart_measure: Option<String>,
    pub status: String,
    pub author: String,
    pub created_at: String,
}

/// What a comment is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Idea(i64),
    Story(i64),
}

impl Target {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Target::Idea(id) => ("idea", id),
            Target::Story(id) => ("story", id),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub target: Target,
    pub body: String,
    pub is_question: bool,
    pub status: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub org_code: String,
    pub user: String,
    pub team: String,
    pub note: String,
    pub agreed_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub title: String,
    /// Day number (`domain::dates::day_number`).
    pub day: i64,
    pub place: String,
    pub material: String,
}

/// One line of the feed: what kind of thing is new, its id, its title and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedItem {
    /// "idea", "story", "event" or "comment".
    pub kind: String,
    pub id: i64,
    pub title: String,
    /// The organisation a story or comment came from; empty for ideas and events.
    pub org_code: String,
    pub at: String,
}

fn invalid(field: &str, expected: &str) -> StoreError {
    StoreError::Invalid(format!("{field}: expected {expected}"))
}

fn text_field(field: &str, value: &str, max: usize) -> Result<()> {
    let t = value.trim();
    if t.is_empty() {
        return Err(invalid(field, "some text"));
    }
    if t.chars().count() > max {
        return Err(invalid(field, &format!("at most {max} characters")));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(field, "text without control characters"));
    }
    Ok(())
}

/// The checks an idea passes before it is written (the category's existence is checked in
/// the transaction).
pub fn check_idea(i: &NewIdea) -> Result<()> {
    text_field("title", &i.title, 200)?;
    text_field("description", &i.description, 5000)?;
    for m in &i.measures {
        if m.is_empty()
            || m.len() > 100
            || !m
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                "measures",
                "catalogue measure ids (letters, digits, _ and -)",
            ));
        }
    }
    Ok(())
}

async fn audit(
    tx: &mut Transaction<'_, Any>,
    user: &str,
    action: &str,
    target: &str,
    org: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_name, action, target, org_code, detail) VALUES ($1, $2, $3, $4, \
         COALESCE((SELECT code FROM organisations WHERE code = $5), (SELECT code FROM wards WHERE code = $5)), $6)",
    )
    .bind(crate::imports::now_iso())
    .bind(user)
    .bind(action)
    .bind(target)
    .bind(org)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn story_row(r: &sqlx::any::AnyRow) -> Result<Story> {
    Ok(Story {
        id: r.try_get(0)?,
        org_code: r.try_get(1)?,
        idea_id: r.try_get(2)?,
        title: r.try_get(3)?,
        body: r.try_get(4)?,
        chart_measure: r.try_get(5)?,
        status: r.try_get(6)?,
        author: r.try_get(7)?,
        created_at: r.try_get(8)?,
    })
}

const STORY_COLUMNS: &str =
    "id, org_code, idea_id, title, body, chart_measure, status, author, created_at";

impl Store {
    /// The category catalogue, in its order.
    pub async fn net_categories(&self) -> Result<Vec<Category>> {
        let rows = sqlx::query(
            "SELECT id, family, name, description FROM net_categories ORDER BY position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Category {
                    id: r.try_get(0)?,
                    family: r.try_get(1)?,
                    name: r.try_get(2)?,
                    description: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Adds a category at the end of the catalogue (the programme admin's; the caller checks).
    pub async fn net_add_category(
        &self,
        family: &str,
        name: &str,
        description: &str,
        user: &str,
    ) -> Result<i64> {
        text_field("family", family, 100)?;
        text_field("name", name, 200)?;
        let mut tx = self.pool.begin().await?;
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM net_categories WHERE name = $1")
            .bind(name.trim())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(invalid(
                "name",
                "a category name not already in the catalogue",
            ));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO net_categories (family, name, description, position) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM net_categories)) RETURNING id",
        )
        .bind(family.trim())
        .bind(name.trim())
        .bind(description.trim())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            user,
            "network_category_added",
            &format!("network/category/{id}"),
            "",
            name.trim(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds an idea to the library and returns its id.
    pub async fn net_create_idea(&self, i: &NewIdea, user: &str) -> Result<i64> {
        check_idea(i)?;
        let now = crate::imports::now_iso();
        let mut tx = self.pool.begin().await?;
        let cat: Option<(i64,)> = sqlx::query_as("SELECT id FROM net_categories WHERE id = $1")
            .bind(i.category_id)
            .fetch_optional(&mut *tx)
            .await?;
        if cat.is_none() {
            return Err(invalid("category", "a category from the catalogue"));
        }
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM net_ideas WHERE title = $1")
            .bind(i.title.trim())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(invalid("title", "a title no other idea in the library has"));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO net_ideas (title, description, category_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(i.title.trim())
        .bind(i.description.trim())
        .bind(i.category_id)
        .bind(user)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let mut measures = i.measures.clone();
        measures.sort();
        measures.dedup();
        for m in &measures {
            sqlx::query("INSERT INTO net_idea_measures (idea_id, measure_id) VALUES ($1, $2)")
                .bind(id)
                .bind(m)
                .execute(&mut *tx)
                .await?;
        }
        audit(
            &mut tx,
            user,
            "network_idea_created",
            &format!("network/idea/{id}"),
            "",
            i.title.trim(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every idea in the library, by title, with its category and measures.
    pub async fn net_ideas(&self) -> Result<Vec<Idea>> {
        self.ideas_where(None).await
    }

    pub async fn net_idea(&self, id: i64) -> Result<Option<Idea>> {
        Ok(self.ideas_where(Some(id)).await?.pop())
    }

    async fn ideas_where(&self, id: Option<i64>) -> Result<Vec<Idea>> {
        let filter = if id.is_some() {
            "WHERE i.id = $1"
        } else {
            "WHERE $1 = $1"
        };
        let rows = sqlx::query(&format!(
            "SELECT i.id, i.title, i.description, i.category_id, c.name, i.created_by, i.created_at \
             FROM net_ideas i JOIN net_categories c ON c.id = i.category_id {filter} ORDER BY i.title, i.id"
        ))
        .bind(id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let mrows = sqlx::query(&format!(
            "SELECT m.idea_id, m.measure_id FROM net_idea_measures m {} ORDER BY m.idea_id, m.measure_id",
            if id.is_some() { "WHERE m.idea_id = $1" } else { "WHERE $1 = $1" }
        ))
        .bind(id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let idea_id: i64 = r.try_get(0)?;
            let mut measures = Vec::new();
            for m in &mrows {
                let mid: i64 = m.try_get(0)?;
                if mid == idea_id {
                    measures.push(m.try_get(1)?);
                }
            }
            out.push(Idea {
                id: idea_id,
                title: r.try_get(1)?,
                description: r.try_get(2)?,
                category_id: r.try_get(3)?,
                category: r.try_get(4)?,
                measures,
                created_by: r.try_get(5)?,
                created_at: r.try_get(6)?,
            });
        }
        Ok(out)
    }

    /// Links a project's change idea to a library idea (replacing any earlier link of that
    /// change idea). The caller checks that the user may edit the project and that the change
    /// idea is in its diagram. Audited against the project's organisation.
    pub async fn net_link(
        &self,
        project_id: i64,
        change_idea: &str,
        idea_id: i64,
        user: &str,
    ) -> Result<()> {
        text_field("change idea", change_idea, 100)?;
        let now = crate::imports::now_iso();
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> =
            sqlx::query_as("SELECT org_code FROM qi_projects WHERE id = $1")
                .bind(project_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((org,)) = org else {
            return Err(invalid("project", "a QI project that exists"));
        };
        let idea: Option<(String,)> = sqlx::query_as("SELECT title FROM net_ideas WHERE id = $1")
            .bind(idea_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((title,)) = idea else {
            return Err(invalid("idea", "an idea in the library"));
        };
        sqlx::query("DELETE FROM net_idea_links WHERE project_id = $1 AND change_idea = $2")
            .bind(project_id)
            .bind(change_idea)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO net_idea_links (project_id, change_idea, idea_id, linked_by, linked_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(project_id)
        .bind(change_idea)
        .bind(idea_id)
        .bind(user)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            user,
            "network_idea_linked",
            &format!("qi/{project_id}"),
            &org,
            &format!("change idea {change_idea} of project {project_id} linked to idea {idea_id}: {title}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a link; false when there was none.
    pub async fn net_unlink(&self, project_id: i64, change_idea: &str, user: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let org: Option<(String,)> = sqlx::query_as(
            "SELECT p.org_code FROM net_idea_links l JOIN qi_projects p ON p.id = l.project_id \
             WHERE l.project_id = $1 AND l.change_idea = $2",
        )
        .bind(project_id)
        .bind(change_idea)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org,)) = org else { return Ok(false) };
        sqlx::query("DELETE FROM net_idea_links WHERE project_id = $1 AND change_idea = $2")
            .bind(project_id)
            .bind(change_idea)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            user,
            "network_idea_unlinked",
            &format!("qi/{project_id}"),
            &org,
            &format!("change idea {change_idea} of project {project_id} unlinked"),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Links, by idea then project; `idea` keeps one idea's.
    pub async fn net_links(&self, idea: Option<i64>) -> Result<Vec<Link>> {
        let filter = if idea.is_some() {
            "WHERE idea_id = $1"
        } else {
            "WHERE $1 = $1"
        };
        let rows = sqlx::query(&format!(
            "SELECT project_id, change_idea, idea_id, linked_by, linked_at FROM net_idea_links {filter} \
             ORDER BY idea_id, project_id, change_idea"
        ))
        .bind(idea.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Link {
                    project_id: r.try_get(0)?,
                    change_idea: r.try_get(1)?,
                    idea_id: r.try_get(2)?,
                    linked_by: r.try_get(3)?,
                    linked_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Creates or replaces the peer group `name` with `members` (ward or trust codes that must
    /// exist). The programme admin's; the caller checks.
    pub async fn net_set_peer_group(
        &self,
        name: &str,
        description: &str,
        members: &[String],
        user: &str,
    ) -> Result<i64> {
        text_field("name", name, 200)?;
        let mut tx = self.pool.begin().await?;
        for m in members {
            let found: Option<(String,)> = sqlx::query_as(
                "SELECT code FROM wards WHERE code = $1 UNION SELECT code FROM organisations WHERE code = $1",
            )
            .bind(m)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(format!(
                    "members: '{m}' is not a ward or organisation code; expected known codes"
                )));
            }
        }
        let old: Option<(i64,)> = sqlx::query_as("SELECT id FROM net_peer_groups WHERE name = $1")
            .bind(name.trim())
            .fetch_optional(&mut *tx)
            .await?;
        let id = match old {
            Some((id,)) => {
                sqlx::query("UPDATE net_peer_groups SET description = $2 WHERE id = $1")
                    .bind(id)
                    .bind(description.trim())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM net_peer_group_members WHERE group_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO net_peer_groups (name, description, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(name.trim())
                .bind(description.trim())
                .bind(user)
                .bind(crate::imports::now_iso())
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let mut sorted: Vec<&String> = members.iter().collect();
        sorted.sort();
        sorted.dedup();
        for m in &sorted {
            sqlx::query(
                "INSERT INTO net_peer_group_members (group_id, member_code) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(m.as_str())
            .execute(&mut *tx)
            .await?;
        }
        audit(
            &mut tx,
            user,
            "network_peer_group_set",
            &format!("network/peer-group/{id}"),
            "",
            &format!("{}: {} members", name.trim(), sorted.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn net_peer_groups(&self) -> Result<Vec<PeerGroup>> {
        let rows = sqlx::query("SELECT id, name, description FROM net_peer_groups ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let members = sqlx::query("SELECT group_id, member_code FROM net_peer_group_members ORDER BY group_id, member_code")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let mut ms = Vec::new();
            for m in &members {
                let g: i64 = m.try_get(0)?;
                if g == id {
                    ms.push(m.try_get(1)?);
                }
            }
            out.push(PeerGroup {
                id,
                name: r.try_get(1)?,
                description: r.try_get(2)?,
                members: ms,
            });
        }
        Ok(out)
    }

    /// A team shares a story; it waits for the programme admin's moderation.
    pub async fn net_add_story(&self, s: &NewStory, user: &str) -> Result<i64> {
        text_field("title", &s.title, 200)?;
        text_field("body", &s.body, 20_000)?;
        let mut tx = self.pool.begin().await?;
        if let Some(idea) = s.idea_id {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM net_ideas WHERE id = $1")
                .bind(idea)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(invalid("idea", "an idea in the library, or none"));
            }
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO net_stories (org_code, idea_id, title, body, chart_measure, status, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&s.org_code)
        .bind(s.idea_id)
        .bind(s.title.trim())
        .bind(s.body.trim())
        .bind(s.chart_measure.as_deref())
        .bind(PENDING)
        .bind(user)
        .bind(crate::imports::now_iso())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            user,
            "network_story_shared",
            &format!("network/story/{id}"),
            &s.org_code,
            s.title.trim(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The programme admin publishes or rejects a story; false when there is no such story.
    pub async fn net_moderate_story(&self, id: i64, publish: bool, user: &str) -> Result<bool> {
        self.moderate("net_stories", "story", id, publish, user)
            .await
    }

    /// The programme admin publishes or rejects a comment; false when there is no such comment.
    pub async fn net_moderate_comment(&self, id: i64, publish: bool, user: &str) -> Result<bool> {
        self.moderate("net_comments", "comment", id, publish, user)
            .await
    }

    async fn moderate(
        &self,
        table: &str,
        kind: &str,
        id: i64,
        publish: bool,
        user: &str,
    ) -> Result<bool> {
        let status = if publish { PUBLISHED } else { REJECTED };
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(&format!(
            "UPDATE {table} SET status = $2, moderated_by = $3, moderated_at = $4 WHERE id = $1"
        ))
        .bind(id)
        .bind(status)
        .bind(user)
        .bind(crate::imports::now_iso())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        audit(
            &mut tx,
            user,
            &format!("network_{kind}_{status}"),
            &format!("network/{kind}/{id}"),
            "",
            status,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stories, newest first; `published_only` for everyone but the programme admin.
    pub async fn net_stories(&self, published_only: bool) -> Result<Vec<Story>> {
        let rows = sqlx::query(&format!(
            "SELECT {STORY_COLUMNS} FROM net_stories WHERE status = $1 OR $2 = 0 ORDER BY id DESC"
        ))
        .bind(PUBLISHED)
        .bind(i64::from(published_only))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(story_row).collect()
    }

    pub async fn net_story(&self, id: i64) -> Result<Option<Story>> {
        let row = sqlx::query(&format!(
            "SELECT {STORY_COLUMNS} FROM net_stories WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(story_row).transpose()
    }

    /// A comment or question on an idea or story; it waits for moderation.
    pub async fn net_add_comment(
        &self,
        target: Target,
        body: &str,
        question: bool,
        user: &str,
    ) -> Result<i64> {
        text_field("comment", body, 5000)?;
        let (kind, tid) = target.parts();
        let table = if kind == "idea" {
            "net_ideas"
        } else {
            "net_stories"
        };
        let mut tx = self.pool.begin().await?;
        let found: Option<(i64,)> =
            sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(tid)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(invalid(kind, &format!("an existing {kind}")));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO net_comments (target_kind, target_id, body, is_question, status, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(kind)
        .bind(tid)
        .bind(body.trim())
        .bind(i64::from(question))
        .bind(PENDING)
        .bind(user)
        .bind(crate::imports::now_iso())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            user,
            "network_comment_added",
            &format!("network/{kind}/{tid}"),
            "",
            &format!("comment {id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Comments on `target`, oldest first.
    pub async fn net_comments(&self, target: Target, published_only: bool) -> Result<Vec<Comment>> {
        let (kind, tid) = target.parts();
        let rows = sqlx::query(
            "SELECT id, body, is_question, status, author, created_at FROM net_comments \
             WHERE target_kind = $1 AND target_id = $2 AND (status = $3 OR $4 = 0) ORDER BY id",
        )
        .bind(kind)
        .bind(tid)
        .bind(PUBLISHED)
        .bind(i64::from(published_only))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let q: i64 = r.try_get(2)?;
                Ok(Comment {
                    id: r.try_get(0)?,
                    target,
                    body: r.try_get(1)?,
                    is_question: q != 0,
                    status: r.try_get(3)?,
                    author: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// A team's contact agrees to be asked (`Some`) or withdraws (`None`).
    pub async fn net_set_contact(
        &self,
        org_code: &str,
        contact: Option<(&str, &str)>,
        user: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM net_contacts WHERE org_code = $1")
            .bind(org_code)
            .execute(&mut *tx)
            .await?;
        if let Some((team, note)) = contact {
            text_field("team", team, 200)?;
            sqlx::query("INSERT INTO net_contacts (org_code, user_name, team, note, agreed_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(org_code)
                .bind(user)
                .bind(team.trim())
                .bind(note.trim())
                .bind(crate::imports::now_iso())
                .execute(&mut *tx)
                .await?;
        }
        let action = if contact.is_some() {
            "network_contact_agreed"
        } else {
            "network_contact_withdrawn"
        };
        audit(
            &mut tx,
            user,
            action,
            &format!("network/contact/{org_code}"),
            org_code,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn net_contacts(&self) -> Result<Vec<Contact>> {
        let rows = sqlx::query(
            "SELECT org_code, user_name, team, note, agreed_at FROM net_contacts ORDER BY org_code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Contact {
                    org_code: r.try_get(0)?,
                    user: r.try_get(1)?,
                    team: r.try_get(2)?,
                    note: r.try_get(3)?,
                    agreed_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// A learning event (date as a day number, place, material).
    pub async fn net_add_event(
        &self,
        title: &str,
        day: i64,
        place: &str,
        material: &str,
        user: &str,
    ) -> Result<i64> {
        text_field("title", title, 200)?;
        text_field("place", place, 200)?;
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO net_events (title, day, place, material, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(title.trim())
        .bind(day)
        .bind(place.trim())
        .bind(material.trim())
        .bind(user)
        .bind(crate::imports::now_iso())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            user,
            "network_event_added",
            &format!("network/event/{id}"),
            "",
            title.trim(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Events by date.
    pub async fn net_events(&self) -> Result<Vec<Event>> {
        let rows =
            sqlx::query("SELECT id, title, day, place, material FROM net_events ORDER BY day, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    id: r.try_get(0)?,
                    title: r.try_get(1)?,
                    day: r.try_get(2)?,
                    place: r.try_get(3)?,
                    material: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// What is new in the network, newest first: ideas, published stories and comments, events.
    pub async fn net_feed(&self, limit: i64) -> Result<Vec<FeedItem>> {
        let rows = sqlx::query(
            "SELECT kind, id, title, org_code, at FROM ( \
               SELECT 'idea' AS kind, id, title, '' AS org_code, created_at AS at FROM net_ideas \
               UNION ALL SELECT 'story', id, title, org_code, created_at FROM net_stories WHERE status = $1 \
               UNION ALL SELECT 'event', id, title, '', created_at FROM net_events \
               UNION ALL SELECT 'comment', id, SUBSTR(body, 1, 120), '', created_at FROM net_comments WHERE status = $1 \
             ) AS feed ORDER BY at DESC, kind, id DESC LIMIT $2",
        )
        .bind(PUBLISHED)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FeedItem {
                    kind: r.try_get(0)?,
                    id: r.try_get(1)?,
                    title: r.try_get(2)?,
                    org_code: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }
}
