"""factory_boy factories for synthetic test data (never real people)."""

import datetime as dt
from functools import cached_property

import factory

from assessments.models import Assessment, IdentifiedNeed
from cases import models as cm
from earlyhelp.models import Locality, Membership, Organisation, Team, User


class Ref:
    """Seeded reference data by code: ``ref.level("L2")``, ``ref.end_reason("NEEDS_MET")``."""

    def level(self, code: str) -> cm.LevelOfNeed:
        return cm.LevelOfNeed.objects.get(code=code)

    def service(self, code: str = "FAMILY_SUPPORT") -> cm.Service:
        return cm.Service.objects.get(code=code)

    def source(self, code: str = "2A") -> cm.ReferralSource:
        return cm.ReferralSource.objects.get(code=code)

    def end_reason(self, code: str = "NEEDS_MET") -> cm.EpisodeEndReason:
        return cm.EpisodeEndReason.objects.get(code=code)

    def outcome(self, code: str) -> cm.HeadlineOutcome:
        return cm.HeadlineOutcome.objects.get(code=code)

    @cached_property
    def outcomes(self) -> list[cm.HeadlineOutcome]:
        return list(cm.HeadlineOutcome.objects.all())


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.SCHOOL


class LocalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Locality

    organisation = factory.SubFactory(OrganisationFactory, code="COUNCIL", kind="council")
    code = factory.Sequence(lambda n: f"LOC{n:03d}")
    name = factory.Sequence(lambda n: f"Locality {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory, code="COUNCIL", kind="council")
    locality = factory.SubFactory(LocalityFactory)
    code = factory.Sequence(lambda n: f"TEAM{n:03d}")
    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password("correct-horse-battery")

    @classmethod
    def with_role(cls, role: str, *, team: Team | None = None, organisation=None, **kwargs) -> User:
        organisation = organisation or (team.organisation if team else None)
        user = cls(organisation=organisation, **kwargs)
        Membership.objects.create(
            user=user,
            organisation=organisation,
            team=team,
            role=role,
            started_on=dt.date(2020, 1, 1),
        )
        return user


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Family

    reference = factory.Sequence(lambda n: f"F-{900000 + n:06d}")
    postcode = "LS1 4AP"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Person

    forename = factory.Faker("first_name", locale="en_GB")
    surname = factory.Faker("last_name", locale="en_GB")
    date_of_birth = dt.date(2015, 6, 1)
    sex = "F"


class CscInvolvementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.CscInvolvement

    person = factory.SubFactory(PersonFactory)
    kind = cm.CscInvolvement.Kind.CIN_PLAN
    started_on = dt.date(2024, 1, 10)


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    family = factory.SubFactory(FamilyFactory)
    kind = Assessment.Kind.MY_PLAN_PLUS
    started_on = dt.date(2024, 2, 1)


class IdentifiedNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentifiedNeed

    assessment = factory.SubFactory(AssessmentFactory)
    headline_outcome = factory.LazyFunction(
        lambda: cm.HeadlineOutcome.objects.get(code="EDUCATION")
    )
